# tests/k8s — sriovd-kubelet-plugin between a fake kubelet (python3-grpcio)
# and sriovd on the kernel simulator
k8s_tests = \
	tests/k8s/plugin.sh \
	tests/k8s/restarts.sh \
	tests/k8s/unprivileged.sh
TESTS += $(k8s_tests)
EXTRA_DIST += $(k8s_tests) tests/k8s/common.sh tests/k8s/fake-kubelet.py \
	tests/k8s/cdi-spec-0.5.schema.json
