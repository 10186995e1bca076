/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "host.h"
#include "jsonpos.h"
#include "vfattr.h"

/* The declared configuration: /etc/sriovd/sriovd.conf and then
 * /etc/sriovd/conf.d/NAME.conf in lexical order (JSON, documented in
 * sriovd.conf(5)). A later file's PF rule with the same match replaces an
 * earlier one; pools with the same name likewise. Every error is reported as
 * FILE:LINE:COL: MESSAGE. */

typedef enum MatchKind {
        MATCH_BDF,
        MATCH_INTERFACE,
        MATCH_ID,                       /* vendor:device, optionally the index-th such PF */
} MatchKind;

typedef struct ConfigMatch {
        MatchKind kind;
        pci_addr bdf;
        char interface[16];
        uint16_t vendor, device;
        int index;                      /* -1: every PF with these ids */
} ConfigMatch;

/* What a VF should be bound to. */
typedef enum DriverWant {
        DRIVER_UNSET,                   /* leave the binding alone */
        DRIVER_HOST,                    /* the host's own VF driver (kernel's choice) */
        DRIVER_NAMED,                   /* a named driver, e.g. vfio-pci */
} DriverWant;

typedef struct ConfigVFRange {
        unsigned first, last;           /* inclusive */
        DriverWant driver_want;
        char *driver;                   /* DRIVER_NAMED */
        sriov_vf_config attrs;          /* attrs.mask: what is declared */
        bool mac_is_base;               /* "mac_base": VF first+i gets mac + i */
        char *file;
        json_pos pos;
} ConfigVFRange;

typedef struct ConfigPF {
        ConfigMatch match;
        int num_vfs;                    /* -1: not declared */
        int autoprobe;                  /* -1: not declared */
        bool enforce;                   /* a VF setting changed by hand is put back as declared */
        ConfigVFRange *ranges;
        size_t n_ranges;
        char *file;
        json_pos pos;                   /* of the rule */
        json_pos num_vfs_pos;
} ConfigPF;

/* When a pool's VF is reset (function-level reset) between tenants. */
typedef enum ResetPolicy {
        RESET_AUTO,                     /* when the device has a reset method */
        RESET_ALWAYS,                   /* a VF that cannot be reset is quarantined */
        RESET_NEVER,
        _RESET_POLICY_MAX,
} ResetPolicy;

const char *reset_policy_name(ResetPolicy p);
int reset_policy_from_string(const char *s, ResetPolicy *ret);

typedef struct ConfigPool {
        char *name;
        char **selectors;               /* as written: "ens1f0#0-3", "0000:3b:00.0#4-7", "8086:154c", "numa:1" */
        DriverWant driver_want;
        char *driver;
        sriov_vf_config attrs;          /* defaults applied at assignment */
        bool mac_is_base;               /* attrs.mac is "mac_base": each VF gets base + its place in the pool */
        ResetPolicy reset;
        bool enforce;                   /* a setting of an assigned VF changed by hand is put back */
        char *file;
        json_pos pos;
} ConfigPool;

typedef struct Config {
        unsigned n_ref;                 /* jobs keep the config they apply alive across a reload */
        ConfigPF *pfs;
        size_t n_pfs;
        ConfigPool *pools;
        size_t n_pools;
        char **files;                   /* what was read, in order */
} Config;

typedef struct ConfigErrors {
        char **messages;                /* "file:line:col: message" */
        char **warnings;
} ConfigErrors;

void config_errors_done(ConfigErrors *e);
void config_error(ConfigErrors *e, const char *file, json_pos pos, const char *fmt, ...) _printf_(4, 5);
void config_warning(ConfigErrors *e, const char *file, json_pos pos, const char *fmt, ...) _printf_(4, 5);

/* main_file and dir may be NULL (not used) or missing (nothing declared).
 * Returns 0 with *ret set when there were no errors; -EINVAL otherwise. */
int config_load(const char *main_file, const char *dir, Config **ret, ConfigErrors *errors);
int config_parse_text(const char *file, const char *text, size_t len, Config *c, ConfigErrors *errors);
Config *config_free(Config *c);                 /* = unref */
Config *config_ref(Config *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Config *, config_free);

/* Checks against a host: a rule that matches nothing (warning), two rules
 * matching one PF, VF counts beyond sriov_totalvfs, ranges beyond the VF count. */
int config_check_host(const Config *c, const sriov_host *h, ConfigErrors *errors);

/* The rule for a PF (NULL if none). */
const ConfigPF *config_rule_for(const Config *c, const sriov_host *h, const sriov_device *pf);
bool config_match(const ConfigMatch *m, const sriov_host *h, const sriov_device *pf);
char *config_match_describe(const ConfigMatch *m);

/* The VF count a rule wants on a PF now (declared, or the current one). */
unsigned config_wanted_vfs(const ConfigPF *rule, const sriov_device *pf);
/* The declared settings of VF index n (driver, attributes with mac_base
 * resolved); false if no range covers it. */
bool config_vf_settings(const ConfigPF *rule, unsigned n, DriverWant *ret_want, const char **ret_driver,
                        sriov_vf_config *ret_attrs);

/* Parsers shared with the D-Bus API. */
int parse_vf_range(const char *s, unsigned *ret_first, unsigned *ret_last);
int parse_pci_id_pair(const char *s, uint16_t *ret_vendor, uint16_t *ret_device);
