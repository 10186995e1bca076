# systemd/ — unit, D-Bus policy and activation, polkit actions, tmpfiles
systemdsystemunit_DATA = systemd/sriovd.service systemd/sriovd-metrics.service systemd/sriovd-metrics.timer
catalog_DATA = systemd/sriovd.catalog
dbussystemservice_DATA = systemd/org.sriovd.Manager1.service
dbussystemconf_DATA = systemd/org.sriovd.Manager1.conf
polkitaction_DATA = systemd/org.sriovd.policy
tmpfiles_DATA = systemd/sriovd.conf

systemdsystemunitdir = @systemdsystemunitdir@
dbussystemservicedir = @dbussystemservicedir@
dbussystemconfdir = @dbussystemconfdir@
polkitactiondir = @polkitactiondir@
tmpfilesdir = @tmpfilesdir@
catalogdir = @catalogdir@

EXTRA_DIST += \
	systemd/sriovd.service.in \
	systemd/sriovd-metrics.service.in \
	systemd/sriovd-metrics.timer \
	systemd/sriovd.catalog \
	systemd/org.sriovd.Manager1.service.in \
	systemd/org.sriovd.Manager1.conf \
	systemd/org.sriovd.policy \
	systemd/sriovd.tmpfiles
CLEANFILES += systemd/sriovd.service systemd/sriovd-metrics.service systemd/org.sriovd.Manager1.service systemd/sriovd.conf

systemd_subst = $(SED) -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@bindir[@]|$(bindir)|g'

systemd/sriovd.service: systemd/sriovd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) systemd && $(systemd_subst) $(srcdir)/systemd/sriovd.service.in > $@
systemd/sriovd-metrics.service: systemd/sriovd-metrics.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) systemd && $(systemd_subst) $(srcdir)/systemd/sriovd-metrics.service.in > $@
systemd/org.sriovd.Manager1.service: systemd/org.sriovd.Manager1.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) systemd && $(systemd_subst) $(srcdir)/systemd/org.sriovd.Manager1.service.in > $@
systemd/sriovd.conf: systemd/sriovd.tmpfiles
	$(AM_V_GEN)$(MKDIR_P) systemd && cp $(srcdir)/systemd/sriovd.tmpfiles $@
