# k8s/ — sriovd-kubelet-plugin: the kubelet's device plugin API v1beta1 for
# sriovd's pools (docs/kubernetes.md). A client of sriovd's bus like
# sriovctl; gRPC's C core and protobuf-c for the kubelet's side, with the
# messages generated from the .proto files here.
EXTRA_DIST += \
	k8s/deviceplugin.proto \
	k8s/podresources.proto \
	k8s/sriovd-kubelet-plugin.8 \
	k8s/sriovd-kubelet-plugin.service.in \
	k8s/daemonset.yaml

if ENABLE_KUBELET_PLUGIN
K8S_PROTO_C = k8s/deviceplugin.pb-c.c k8s/deviceplugin.pb-c.h k8s/podresources.pb-c.c k8s/podresources.pb-c.h
BUILT_SOURCES += $(K8S_PROTO_C)
CLEANFILES += $(K8S_PROTO_C)

k8s/deviceplugin.pb-c.c: $(top_srcdir)/k8s/deviceplugin.proto
	$(AM_V_GEN)$(MKDIR_P) k8s && $(PROTOC_C) --c_out=k8s -I$(top_srcdir)/k8s $(top_srcdir)/k8s/deviceplugin.proto
k8s/deviceplugin.pb-c.h: k8s/deviceplugin.pb-c.c
	@:
k8s/podresources.pb-c.c: $(top_srcdir)/k8s/podresources.proto
	$(AM_V_GEN)$(MKDIR_P) k8s && $(PROTOC_C) --c_out=k8s -I$(top_srcdir)/k8s $(top_srcdir)/k8s/podresources.proto
k8s/podresources.pb-c.h: k8s/podresources.pb-c.c
	@:

# generated code, compiled without the project's warnings
noinst_LIBRARIES += k8s/libk8s-proto.a
nodist_k8s_libk8s_proto_a_SOURCES = $(K8S_PROTO_C)
k8s_libk8s_proto_a_CPPFLAGS = -I$(top_builddir)/k8s -Dregister=register_
k8s_libk8s_proto_a_CFLAGS = $(PROTOBUFC_CFLAGS)

sbin_PROGRAMS += sriovd-kubelet-plugin
sriovd_kubelet_plugin_SOURCES = \
	k8s/main.c \
	k8s/plugin.h k8s/messages.h \
	k8s/plog.c k8s/plog.h \
	k8s/rpc.c k8s/rpc.h \
	k8s/sriovd.c \
	k8s/resource.c \
	k8s/allocate.c \
	k8s/kubelet.c
sriovd_kubelet_plugin_CPPFLAGS = $(K8S_CPPFLAGS)
sriovd_kubelet_plugin_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS) $(GRPC_CFLAGS) $(PROTOBUFC_CFLAGS)
# from libsriov only the string helpers (util.c)
sriovd_kubelet_plugin_LDADD = k8s/libk8s-proto.a $(LIBAPI_LIBS) lib/libsriov.a $(SYSTEMD_LIBS) $(GRPC_LIBS) \
	$(PROTOBUFC_LIBS)

man_MANS += k8s/sriovd-kubelet-plugin.8
systemdsystemunit_DATA += systemd/sriovd-kubelet-plugin.service
CLEANFILES += systemd/sriovd-kubelet-plugin.service
systemd/sriovd-kubelet-plugin.service: k8s/sriovd-kubelet-plugin.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) systemd && $(systemd_subst) $(srcdir)/k8s/sriovd-kubelet-plugin.service.in > $@
endif
