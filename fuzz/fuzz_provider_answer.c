/*
 * fuzz_provider_answer.c - libFuzzer target for provider_parse_answer()
 * (identity/provider.c), which reads what an exec or HTTP provider says.
 *
 * The whole input is the answer; it is parsed as an SMS answer and as an
 * identity answer. Checked on every input:
 *   - the verdict is ACCEPTED, REJECTED or FAILED (PENDING comes only from
 *     the manual provider, never from an answer);
 *   - the reason is NUL-terminated within its array (which starts filled
 *     with garbage), well-formed UTF-8 and free of control characters;
 *   - the verdict agrees with a reference reading of the same JSON: an
 *     object whose "result" string is "sent"/"accepted" (ACCEPTED) or
 *     "failed"/"rejected" (REJECTED), and whose "reason", if present, is a
 *     string. Anything else is FAILED.
 *
 * CHECK aborts even when NDEBUG is defined, so the fuzzer always reports.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "identity/provider_internal.h"
#include "proto/utf8.h"
#include "fuzz.h"

/* The verdict the answer should give, read independently with jansson. */
static enum provider_verdict expected(bool sms, json_t *root)
{
    json_t *result = json_object_get(root, "result");
    json_t *reason = json_object_get(root, "reason");
    if (!json_is_object(root) || !json_is_string(result) || (reason && !json_is_string(reason)))
        return PROVIDER_FAILED;
    const char *s = json_string_value(result);
    if (strcmp(s, sms ? "sent" : "accepted") == 0)
        return PROVIDER_ACCEPTED;
    if (strcmp(s, sms ? "failed" : "rejected") == 0)
        return PROVIDER_REJECTED;
    return PROVIDER_FAILED;
}

static void check(bool sms, const char *buf, size_t len, json_t *root)
{
    struct provider_result r;
    memset(&r, 0xA5, sizeof r);
    provider_parse_answer(sms, buf, len, &r);
    CHECK(r.verdict == PROVIDER_ACCEPTED || r.verdict == PROVIDER_REJECTED ||
          r.verdict == PROVIDER_FAILED);
    const char *nul = memchr(r.reason, '\0', sizeof r.reason);
    CHECK(nul != NULL);
    size_t n = (size_t)(nul - r.reason);
    CHECK(utf8_valid(r.reason, n));
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)r.reason[i];
        CHECK(c >= 0x20 && c != 0x7F);
    }
    CHECK(r.verdict == expected(sms, root));
    if (r.verdict == PROVIDER_FAILED)
        CHECK(n > 0); /* a failure always says why */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    json_error_t e;
    json_t *root = json_loadb(buf, size, JSON_REJECT_DUPLICATES, &e);
    check(true, buf, size, root);
    check(false, buf, size, root);
    json_decref(root);
    return 0;
}
