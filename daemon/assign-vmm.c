/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* What a VMM needs to use an assigned VF: its device nodes, libvirt XML
 * (<hostdev> and <interface type='hostdev'>) and QEMU arguments. */

#include <stdio.h>

#include "assign.h"
#include "vfio.h"

/* XML attribute values here are digits and names we validated: no escaping needed */
static char *libvirt_hostdev(const sriov_device *vf) {
        return strdup_printf("<hostdev mode='subsystem' type='pci' managed='no'>\n"
                             "  <driver name='vfio'/>\n"
                             "  <source>\n"
                             "    <address domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/>\n"
                             "  </source>\n"
                             "</hostdev>",
                             vf->addr.domain, vf->addr.bus, vf->addr.dev, vf->addr.func);
}

static char *libvirt_interface(const sriov_device *vf, const StateAssignment *a) {
        char mac[18], vlan[96] = "", macl[64] = "";

        if (a->want.mask & VF_ATTR_MAC)
                (void) snprintf(macl, sizeof(macl), "  <mac address='%s'/>\n", vf_mac_format(a->want.mac, mac));
        if ((a->want.mask & VF_ATTR_VLAN) && a->want.vlan)
                (void) snprintf(vlan, sizeof(vlan), "  <vlan>\n    <tag id='%u'/>\n  </vlan>\n", a->want.vlan);
        return strdup_printf("<interface type='hostdev' managed='no'>\n"
                             "  <driver name='vfio'/>\n"
                             "  <source>\n"
                             "    <address type='pci' domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/>\n"
                             "  </source>\n"
                             "%s%s"
                             "</interface>",
                             vf->addr.domain, vf->addr.bus, vf->addr.dev, vf->addr.func, macl, vlan);
}

static int qemu_args(const sriov_device *vf, char ***ret) {
        _cleanup_free_ char *id = NULL, *devarg = NULL;
        _cleanup_strv_free_ char **l = NULL;

        /* a QEMU id: letters, digits, '-', '.', '_', starting with a letter */
        id = strdup_printf("sriovd-%s", vf->bdf);
        if (!id)
                return -ENOMEM;
        for (char *c = id; *c; c++)
                if (*c == ':')
                        *c = '-';
        devarg = strdup_printf("vfio-pci,host=%s,id=%s", vf->bdf, id);
        if (!devarg || strv_extend(&l, "-device") < 0 || strv_push(&l, TAKE_PTR(devarg)) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

/* A kernel without the VFIO cdev (6.1) still has vfio-dev/vfioN in sysfs:
 * of the cdev nodes, only those that exist are a VMM's to open. */
static void drop_missing_cdevs(char **nodes) {
        size_t k = 0;

        if (!nodes)
                return;
        for (size_t i = 0; nodes[i]; i++) {
                if (strstr(nodes[i], "/vfio/devices/") && access(nodes[i], F_OK) < 0) {
                        free(nodes[i]);
                        continue;
                }
                nodes[k++] = nodes[i];
        }
        nodes[k] = NULL;
}

int assignment_vmm(Daemon *d, const StateAssignment *a, AssignmentVmm *ret) {
        _cleanup_(assignment_vmm_done) AssignmentVmm v = {};
        pci_addr addr;
        int r;

        if (pci_addr_parse(a->vf, &addr) < 0 || !(v.vf = sriov_host_find(d->host, &addr)))
                return -ENODEV;
        v.libvirt_hostdev = libvirt_hostdev(v.vf);
        v.libvirt_interface = libvirt_interface(v.vf, a);
        if (!v.libvirt_hostdev || !v.libvirt_interface)
                return -ENOMEM;
        r = qemu_args(v.vf, &v.qemu_args);
        if (r < 0)
                return r;
        r = vfio_device_nodes(d->ctx, &addr, &v.device_nodes);
        if (r < 0)
                return r;
        drop_missing_cdevs(v.device_nodes);
        *ret = v;
        v = (AssignmentVmm) {};
        return 0;
}

void assignment_vmm_done(AssignmentVmm *v) {
        free(v->libvirt_hostdev);
        free(v->libvirt_interface);
        strv_free(v->qemu_args);
        strv_free(v->device_nodes);
        *v = (AssignmentVmm) {};
}
