/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Runs a fuzz target over its seed corpus and regression reproducers
 * (tests/fuzz/corpus/NAME, tests/fuzz/regressions/NAME), so that every
 * finding stays fixed in make check without clang or libFuzzer. */
#include <dirent.h>
#include <stdio.h>

#include "fuzz.h"
#include "util.h"

static int run_dir(const char *dir, unsigned *count) {
        _cleanup_closedir_ DIR *d = opendir(dir);
        struct dirent *de;

        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while ((de = readdir(d))) {
                _cleanup_free_ char *p = NULL, *buf = NULL;
                size_t size = 0;

                if (de->d_name[0] == '.')
                        continue;
                p = strdup_printf("%s/%s", dir, de->d_name);
                if (!p || read_full_file(p, &buf, &size, 4 * 1024 * 1024) < 0) {
                        fprintf(stderr, "cannot read %s\n", p ? p : de->d_name);
                        return -EIO;
                }
                (void) LLVMFuzzerTestOneInput((const uint8_t *) buf, size);
                (*count)++;
        }
        return 0;
}

int main(int argc, char *argv[]) {
        const char *src = getenv("top_srcdir") ?: ".";
        const char *name = argc > 1 ? argv[1] : FUZZ_TARGET;
        unsigned count = 0;

        for (int i = 0; i < 2; i++) {
                _cleanup_free_ char *dir = strdup_printf("%s/tests/fuzz/%s/%s", src, i ? "regressions" : "corpus", name);

                if (!dir || run_dir(dir, &count) < 0)
                        return 1;
        }
        printf("%s: %u inputs replayed\n", name, count);
        return count > 0 ? 0 : 77;
}
