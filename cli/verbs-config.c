/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* apply and reload: the declared configuration (sriovd(8)) at work. */

#include <stdio.h>

#include "bus.h"
#include "output.h"
#include "steps.h"
#include "sriovctl.h"
#include "util.h"

static const OutColumn step_columns[] = {
        { "device", "DEVICE" },
        { "step", "STEP" },
        { "change", "CHANGE" },
        { "result", "RESULT" },
        { "error", "error", OUT_COLUMN_BELOW },
};

/* status: what a dry run would do, without a result */
static const OutColumn drift_columns[] = {
        { "device", "DEVICE" },
        { "step", "STEP" },
        { "change", "CHANGE" },
        { "error", "error", OUT_COLUMN_BELOW },
};

static bool step_is_error(const ApplyStep *s) {
        return streq(s->kind, "error");
}

static bool step_failed(const ApplyStep *s) {
        return step_is_error(s) || !isempty(s->error);
}

void steps_done(ApplySteps *p) {
        p->steps = mfree(p->steps);
        p->reply = sd_bus_message_unref(p->reply);
        *p = (ApplySteps) {};
}

int steps_read(sd_bus_message *reply, bool dry_run, ApplySteps *ret) {
        _cleanup_(steps_done) ApplySteps p = { .reply = sd_bus_message_ref(reply), .dry_run = dry_run };
        ApplyStep s;
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "(ssss)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(reply, "(ssss)", &s.device, &s.kind, &s.change, &s.error)) > 0) {
                ApplyStep *n = realloc(p.steps, (p.n_steps + 1) * sizeof(ApplyStep));

                if (!n)
                        return -ENOMEM;
                p.steps = n;
                p.steps[p.n_steps++] = s;
                p.n_failed += step_failed(&s);
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return r;
        *ret = p;
        p = (ApplySteps) {};
        return 0;
}

void steps_print(const ApplySteps *p, const char *key, const char *title, bool with_result) {
        if (with_result)
                out_table_begin(key, title, OUT_ROWS, step_columns, ELEMENTSOF(step_columns));
        else
                out_table_begin(key, title, OUT_ROWS, drift_columns, ELEMENTSOF(drift_columns));
        for (size_t i = 0; i < p->n_steps; i++) {
                const ApplyStep *s = &p->steps[i];

                out_row_begin();
                print_string(PRINT_ANY, "device", NULL, s->device);
                print_string(PRINT_ANY, "step", NULL, s->kind);
                /* an error step says what is wrong: that is its error */
                print_string(PRINT_ANY, "change", NULL, step_is_error(s) ? NULL : s->change);
                if (with_result)
                        print_string(PRINT_ANY, "result", NULL,
                                     step_failed(s) ? "failed" : p->dry_run ? "planned" : "done");
                print_string(PRINT_ANY, "error", NULL, step_is_error(s) ? s->change : s->error);
                out_row_end();
        }
        out_table_end();
}

/* ---- apply, reload ---- */

typedef struct ConfigFacts {
        char **files, **errors;
} ConfigFacts;

static const BusField config_fields[] = {
        BUS_FIELD(ConfigFacts, "ConfigFiles", "as", files),
        BUS_FIELD(ConfigFacts, "ConfigErrors", "as", errors),
};

static void config_facts_done(ConfigFacts *f) {
        f->files = strv_free(f->files);
        f->errors = strv_free(f->errors);
}

static int get_config_facts(Ctl *c, ConfigFacts *ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = bus_get_manager_properties(c, config_fields, ELEMENTSOF(config_fields), ret, &error, &reply);
        if (r < 0)
                return bus_error_exit(&error, r, "Cannot get the configuration of sriovd");
        return EXIT_OK;
}

/* "a\n  b\n  c" */
static char *join_lines(char * const *l) {
        size_t len = 1;
        char *s;

        STRV_FOREACH(e, l)
                len += strlen(*e) + 3;
        s = malloc(len);
        if (!s)
                return NULL;
        s[0] = 0;
        STRV_FOREACH(e, l) {
                if (e != l)
                        strcat(s, "\n  ");
                strcat(s, *e);
        }
        return s;
}

/* The plan, what the configuration files say, and the exit status. */
static int print_result(const ApplySteps *p, const ConfigFacts *f) {
        out_open_object(NULL);
        print_bool(PRINT_JSON, "dry_run", NULL, p->dry_run);
        print_strv(PRINT_JSON, "config_files", NULL, f->files, ",");
        print_strv(PRINT_JSON, "config_errors", NULL, f->errors, ",");
        steps_print(p, "steps", NULL, true);
        print_uint(PRINT_JSON, "failed", NULL, p->n_failed);
        out_close();
        if (p->n_steps == 0)
                print_string(PRINT_TEXT, NULL, "%s\n",
                             strv_length(f->files) == 0 ? "No configuration is declared: nothing to do."
                                                        : "Nothing to change: the host is as declared.");
        if (strv_length(f->errors) > 0) {
                _cleanup_free_ char *all = join_lines(f->errors);

                warning("the configuration files have errors; sriovd goes by the configuration it loaded before "
                        "them, if any:\n  %s", strna(all));
        }
        if (p->n_failed == 0)
                return EXIT_OK;
        if (p->dry_run)
                return error_exit(EXIT_PARTIAL, "%zu of the %zu steps cannot be carried out.", p->n_failed,
                                  p->n_steps);
        return error_exit(EXIT_PARTIAL, "%zu of the %zu steps failed; the others were done.", p->n_failed,
                          p->n_steps);
}

int verb_apply(Ctl *c, char **args, size_t n_args) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(config_facts_done) ConfigFacts f = {};
        _cleanup_(steps_done) ApplySteps p = {};
        bool dry_run = ctl_has(c, OPT_DRY_RUN);
        int r;

        r = get_config_facts(c, &f);
        if (r != EXIT_OK)
                return r;
        /* a dry run only reads: anyone may ask for it */
        r = bus_call_manager(c, "Apply", !dry_run, &error, &reply, "b", dry_run);
        if (r < 0)
                return bus_error_exit(&error, r, "Cannot %s the declared configuration", dry_run ? "plan" : "apply");
        r = steps_read(reply, dry_run, &p);
        if (r < 0)
                return error_exit(EXIT_FAIL, "Cannot read the reply of sriovd: %s", strerror(-r));
        return print_result(&p, &f);
}

/* Reload refused the files: say what is wrong in them, one error a line. */
static int reload_refused(Ctl *c, const sd_bus_error *error, int r) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(config_facts_done) ConfigFacts f = {};
        _cleanup_free_ char *all = NULL;

        if (!sd_bus_error_has_name(error, SRIOVD_ERROR_INVALID_CONFIG))
                return bus_error_exit(error, r, "Cannot reload the configuration");
        /* the same errors as the reply's message, but as a list */
        if (bus_get_manager_properties(c, config_fields, ELEMENTSOF(config_fields), &f, NULL, &reply) >= 0 &&
            strv_length(f.errors) > 0)
                all = join_lines(f.errors);
        (void) sd_bus_error_setf(&e, error->name,
                                 "the files have errors, and sriovd keeps the configuration it had:\n  %s",
                                 all ?: strempty(error->message));
        return bus_error_exit(&e, r, "Cannot reload the configuration");
}

int verb_reload(Ctl *c, char **args, size_t n_args) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(config_facts_done) ConfigFacts f = {};
        _cleanup_(steps_done) ApplySteps p = {};
        int r;

        r = bus_call_manager(c, "Reload", true, &error, &reply, NULL);
        if (r < 0)
                return reload_refused(c, &error, r);
        r = steps_read(reply, false, &p);
        if (r < 0)
                return error_exit(EXIT_FAIL, "Cannot read the reply of sriovd: %s", strerror(-r));
        r = get_config_facts(c, &f);
        if (r != EXIT_OK)
                return r;
        return print_result(&p, &f);
}
