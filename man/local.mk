# man/ — manual pages
man_MANS += man/sriovd.8 man/sriovd-dbus.5 man/sriovd.conf.5
EXTRA_DIST += man/sriovd.8 man/sriovd-dbus.5 man/sriovd.conf.5
