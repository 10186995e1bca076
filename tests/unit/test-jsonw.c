/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <json-c/json.h>

#include "jsonw.h"
#include "tests.h"
#include "util.h"

/* the writer's document, or NULL after a failure (ret holds the error) */
static char *finish(JsonW *w, int *ret) {
        char *s = NULL;

        *ret = jsonw_finish(w, &s, NULL);
        return s;
}

static void test_document(void) {
        char *nets[] = { (char *) "eth0", (char *) "eth1", NULL };
        _cleanup_free_ char *s = NULL;
        JsonW w = {};
        int r;

        jsonw_begin_object(&w, NULL);
        jsonw_begin_array(&w, "devices");
        jsonw_begin_object(&w, NULL);
        jsonw_string(&w, "address", "0000:3b:00.0");
        jsonw_string_or_null(&w, "driver", "");
        jsonw_string(&w, "override", NULL);
        jsonw_hex(&w, "vendor_id", 0x8086, 4);
        jsonw_hex(&w, "class", 0x20000, 6);
        jsonw_int(&w, "numa_node", -1);
        jsonw_uint(&w, "num_vfs", 4294967295U);
        jsonw_bool(&w, "autoprobe", true);
        jsonw_bool(&w, "consistent", false);
        jsonw_null(&w, "pending");
        jsonw_strv(&w, "netdevs", nets);
        jsonw_strv(&w, "none", NULL);
        jsonw_end_object(&w);
        jsonw_begin_object(&w, NULL);
        jsonw_end_object(&w);
        jsonw_end_array(&w);
        jsonw_end_object(&w);
        s = finish(&w, &r);
        CHECK_INT(r, 0);
        CHECK_STR(s, "{\"devices\":[{\"address\":\"0000:3b:00.0\",\"driver\":null,\"override\":null,"
                     "\"vendor_id\":\"0x8086\",\"class\":\"0x020000\",\"numa_node\":-1,\"num_vfs\":4294967295,"
                     "\"autoprobe\":true,\"consistent\":false,\"pending\":null,\"netdevs\":[\"eth0\",\"eth1\"],"
                     "\"none\":[]},{}]}");
        /* the writer is reset: it can be used again */
        CHECK(w.buf == NULL && w.depth == 0);
}

/* Every string comes out as JSON that json-c reads back to the same
 * bytes, or with U+FFFD in place of bytes that are not UTF-8. */
static void check_string(const char *in, const char *want_json, const char *want_value) {
        _cleanup_free_ char *s = NULL;
        json_object *o, *v;
        JsonW w = {};
        int r;

        jsonw_begin_object(&w, NULL);
        jsonw_string(&w, "k", in);
        jsonw_end_object(&w);
        s = finish(&w, &r);
        CHECK_INT(r, 0);
        if (!s)
                return;
        if (want_json)
                CHECK_STR(s, want_json);
        o = json_tokener_parse(s);
        CHECK(o != NULL);
        if (!o)
                return;
        CHECK(json_object_object_get_ex(o, "k", &v));
        CHECK_STR(json_object_get_string(v), want_value);
        json_object_put(o);
}

static void test_escaping(void) {
        check_string("plain", "{\"k\":\"plain\"}", "plain");
        check_string("a\"b\\c/d", "{\"k\":\"a\\\"b\\\\c/d\"}", "a\"b\\c/d");
        check_string("tab\there\nnl\r\b\f", "{\"k\":\"tab\\there\\nnl\\r\\b\\f\"}", "tab\there\nnl\r\b\f");
        check_string("\x01\x1f", "{\"k\":\"\\u0001\\u001f\"}", "\x01\x1f");
        /* UTF-8 is kept as it is */
        check_string("Gr\xc3\xa4" "fin \xe2\x82\xac \xf0\x9f\x98\x80", NULL, "Gr\xc3\xa4" "fin \xe2\x82\xac \xf0\x9f\x98\x80");
        /* what is not UTF-8 becomes U+FFFD: a lone continuation byte, a
         * Latin-1 byte, a truncated sequence, an overlong form, a surrogate */
        check_string("\x80", NULL, "\xef\xbf\xbd");
        check_string("caf\xe9!", NULL, "caf\xef\xbf\xbd!");
        check_string("\xe2\x82", NULL, "\xef\xbf\xbd\xef\xbf\xbd");
        check_string("\xc0\xaf", NULL, "\xef\xbf\xbd\xef\xbf\xbd");
        check_string("\xed\xa0\x80", NULL, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
        check_string("\xf4\x90\x80\x80", NULL, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

static void test_errors(void) {
        _cleanup_free_ char *s = NULL;
        JsonW w = {};
        int r;

        /* unbalanced */
        jsonw_begin_object(&w, NULL);
        s = finish(&w, &r);
        CHECK_INT(r, -EINVAL);
        CHECK(s == NULL);
        /* a close without an open */
        jsonw_end_array(&w);
        s = finish(&w, &r);
        CHECK_INT(r, -EINVAL);
        /* nothing written */
        s = finish(&w, &r);
        CHECK_INT(r, -EINVAL);
        /* too deep: the error sticks, later calls change nothing */
        for (int i = 0; i <= JSONW_MAX_DEPTH; i++)
                jsonw_begin_array(&w, NULL);
        jsonw_string(&w, NULL, "x");
        s = finish(&w, &r);
        CHECK_INT(r, -E2BIG);
        CHECK(s == NULL);
}

/* a large document: the buffer grows, and json-c reads it back */
static void test_large(void) {
        _cleanup_free_ char *s = NULL;
        json_object *o;
        JsonW w = {};
        size_t len = 0;
        int r;

        jsonw_begin_array(&w, NULL);
        for (int i = 0; i < 20000; i++) {
                jsonw_begin_object(&w, NULL);
                jsonw_int(&w, "i", i);
                jsonw_string(&w, "s", "some text of a device name");
                jsonw_end_object(&w);
        }
        jsonw_end_array(&w);
        r = jsonw_finish(&w, &s, &len);
        CHECK_INT(r, 0);
        CHECK_INT(len, strlen(s));
        o = json_tokener_parse(s);
        CHECK(o && json_object_array_length(o) == 20000);
        CHECK_INT(json_object_get_int(json_object_object_get(json_object_array_get_idx(o, 19999), "i")), 19999);
        json_object_put(o);
}

int main(void) {
        test_document();
        test_escaping();
        test_errors();
        test_large();
        return test_failures ? 1 : 0;
}
