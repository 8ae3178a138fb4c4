/*
 * fuzz_ctl_request.c - libFuzzer target for the control socket's request
 * parsing (ctl__parse_request in ctl/ctl.c, the sans-IO half of ctl_parse).
 *
 * The whole input is one request line. Checked on every input:
 *   - success means the line is a JSON object (read independently with
 *     jansson) with a "cmd" string and an "args" object or none; *cmd is
 *     that string, *args that object (or a fresh empty one), *id that
 *     member (or NULL);
 *   - failure gives one of the four fixed sentences, leaves *root, *cmd and
 *     *args NULL, and *id is the request's id only when the line was an
 *     object;
 *   - references balance: everything handed out is released here, so
 *     LeakSanitizer reports a leak in the parser.
 *
 * CHECK aborts even when NDEBUG is defined, so the fuzzer always reports.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "fuzz.h"

static bool known_sentence(const char *why)
{
    static const char *const sentences[] = {
        "the request is not valid JSON",
        "the request must be a JSON object",
        "the request has no \"cmd\" string",
        "\"args\" must be a JSON object",
    };
    for (size_t i = 0; i < sizeof sentences / sizeof sentences[0]; i++)
        if (why && strcmp(why, sentences[i]) == 0)
            return true;
    return false;
}

static void check_ok(json_t *ref, json_t *id, const char *cmd, json_t *args, json_t *root)
{
    json_t *rcmd = json_object_get(ref, "cmd"), *rargs = json_object_get(ref, "args");
    CHECK(json_is_object(ref) && json_is_string(rcmd));
    CHECK(!rargs || json_is_object(rargs));
    CHECK(json_is_object(root) && json_equal(root, ref));
    CHECK(cmd && cmd == json_string_value(json_object_get(root, "cmd")));
    CHECK(json_is_object(args) && (rargs ? json_equal(args, rargs) : json_object_size(args) == 0));
    json_t *rid = json_object_get(ref, "id");
    CHECK(rid ? id && json_equal(id, rid) : id == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *line = (const char *)data;
    json_error_t e;
    json_t *ref = json_loadb(line, size, JSON_REJECT_DUPLICATES, &e);
    json_t *id = NULL, *args = NULL, *root = NULL;
    const char *cmd = NULL, *why = NULL;
    int rc = ctl__parse_request(line, size, &id, &cmd, &args, &root, &why);
    if (rc == 0) {
        CHECK(why == NULL);
        check_ok(ref, id, cmd, args, root);
    } else {
        CHECK(rc == -1 && known_sentence(why));
        CHECK(root == NULL && cmd == NULL && args == NULL);
        json_t *rid = json_object_get(ref, "id");
        CHECK(rid ? id && json_equal(id, rid) : id == NULL);
        bool ok_shape =
            json_is_object(ref) && json_is_string(json_object_get(ref, "cmd")) &&
            (!json_object_get(ref, "args") || json_is_object(json_object_get(ref, "args")));
        CHECK(!ok_shape);
    }
    json_decref(id);
    json_decref(args);
    json_decref(root);
    json_decref(ref);
    return 0;
}
