/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The configuration parser: JSON syntax, positions, the whole schema. */
#include "conffile.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Config *c;
        ConfigErrors e = {};
        char *text;

        if (size > 256 * 1024)
                return 0;
        text = malloc(size + 1);
        c = calloc(1, sizeof(Config));
        if (!text || !c) {
                free(text);
                free(c);
                return 0;
        }
        c->n_ref = 1;
        memcpy(text, data, size);
        text[size] = 0;
        (void) config_parse_text("fuzz.conf", text, size, c, &e);
        /* every message names the file */
        STRV_FOREACH(m, e.messages)
                if (strncmp(*m, "fuzz.conf", 9) != 0)
                        abort();
        config_errors_done(&e);
        for (size_t i = 0; i < c->n_pfs; i++)
                for (unsigned n = 0; n < 70; n++) {
                        DriverWant w;
                        const char *drv;
                        sriov_vf_config a;

                        (void) config_vf_settings(&c->pfs[i], n, &w, &drv, &a);
                }
        config_free(c);
        free(text);
        return 0;
}
