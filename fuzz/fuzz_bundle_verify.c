/*
 * fuzz_bundle_verify.c - libFuzzer target for the verify side of case
 * bundles (netlog/bundle.c, bundle_verify_parts, what `qunctl
 * verify-bundle` runs on a bundle received from elsewhere): the manifest
 * (JSON: checkpoint note, counts, proofs with hex audit paths) and
 * events.jsonl (one JSON event per line, leaf hex).
 *
 * Input: the manifest's text, a NUL byte, then events.jsonl's bytes
 * (given to the verifier through fmemopen, so lines may hold anything).
 *
 * A fuzzer cannot forge Ed25519, so the harness helps it past the
 * signature when the manifest asks ("fuzz_sign": true): it hashes each
 * event line as the verifier would (a malformed line counts as a zero
 * leaf), builds the tree of those leaves, and signs a note over it with
 * a fixed key (public, fuzzing only); with "fuzz_prove": true it also
 * writes every line's true audit path into "proofs" (seq = line number).
 *
 * Checked, beyond "no crash, no leak, no hang":
 *   - the result is OK, BAD or ERROR with a NUL-terminated message, and
 *     BAD or ERROR always say something;
 *   - OK means every line was counted: events equals the manifest's
 *     counts.events, and tree_size is the signed size;
 *   - a bundle the harness signed and proved whose lines are all
 *     well-formed with seq = line number and whose counts are right
 *     verifies OK (the verifier agrees with an independent model).
 */
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netlog/bundle.h"
#include "netlog/checkpoint.h"
#include "netlog/merkle.h"
#include "fuzz.h"

#define FUZZ_NAME "fuzz.qun.test/qun-log"
#define LINES_MAX 64

/* Not a secret: it exists so that the harness can sign what it builds. */
static const uint8_t FUZZ_SEED[32] = "qun-fuzz-bundle-verify-key-pub!";
static struct checkpoint_key key;
static bool key_ready;

static void init_once(void)
{
    if (key_ready)
        return;
    char dir[] = "/tmp/qun-fuzz-bundle-XXXXXX";
    char path[sizeof dir + 16], pub[sizeof dir + 20], err[512];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/log.key", dir);
    snprintf(pub, sizeof pub, "%s/log.key.pub", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    CHECK(fd >= 0);
    CHECK(write(fd, FUZZ_SEED, sizeof FUZZ_SEED) == (ssize_t)sizeof FUZZ_SEED);
    close(fd);
    CHECK(checkpoint_key_load(path, FUZZ_NAME, &key, err, sizeof err) == 0);
    unlink(path);
    unlink(pub);
    rmdir(dir);
    key_ready = true;
}

/* The model's reading of one event line (as bundle.c documents it). */
static bool text_member(json_t *o, const char *k, const char **out)
{
    json_t *v = json_object_get(o, k);
    *out = json_string_value(v);
    return json_is_string(v) || json_is_null(v);
}

static bool int_member(json_t *o, const char *k, int64_t *out)
{
    json_t *v = json_object_get(o, k);
    *out = json_is_integer(v) ? json_integer_value(v) : 0;
    return json_is_integer(v) || json_is_null(v);
}

static bool model_leaf(const char *line, int64_t *seq, uint8_t leaf[NETLOG_HASH_BYTES])
{
    json_error_t e;
    json_t *o = json_loads(line, 0, &e);
    struct netlog_event ev = {0};
    bool ok = json_is_object(o) && json_is_integer(json_object_get(o, "seq")) &&
              int_member(o, "seq", &ev.seq) && int_member(o, "at", &ev.at_ms) &&
              text_member(o, "kind", &ev.kind) && text_member(o, "actor", &ev.actor) &&
              text_member(o, "target", &ev.target) && int_member(o, "code", &ev.code) &&
              int_member(o, "account_id", &ev.account_id) && text_member(o, "msgid", &ev.msgid) &&
              text_member(o, "body", &ev.body);
    memset(leaf, 0, NETLOG_HASH_BYTES);
    if (ok) {
        netlog_leaf_hash(&ev, leaf);
        const char *hex = json_string_value(json_object_get(o, "leaf"));
        if (hex) { /* a leaf given must be the right one */
            char want[2 * NETLOG_HASH_BYTES + 1];
            sodium_bin2hex(want, sizeof want, leaf, NETLOG_HASH_BYTES);
            ok = strcmp(hex, want) == 0;
        }
    }
    *seq = ev.seq;
    json_decref(o);
    return ok;
}

/* Signs (and proves) the events for the fuzzer; true when the model says
 * the bundle is sound. */
static bool harness_sign(json_t *m, const char *events, size_t len)
{
    static uint8_t leaves[LINES_MAX][NETLOG_HASH_BYTES];
    bool sound = memchr(events, '\0', len) == NULL;
    size_t n = 0;
    for (size_t start = 0; start < len && n < LINES_MAX;) {
        const char *nl = memchr(events + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - events) : len;
        char *line = strndup(events + start, end - start);
        CHECK(line != NULL);
        int64_t seq;
        sound &= model_leaf(line, &seq, leaves[n]) && seq == (int64_t)n + 1;
        free(line);
        n++;
        start = end + 1;
    }
    sound &= n < LINES_MAX && n > 0;
    struct checkpoint cp = {.size = n};
    snprintf(cp.origin, sizeof cp.origin, "%s", FUZZ_NAME);
    merkle_root((const uint8_t(*)[NETLOG_HASH_BYTES])leaves, n, cp.root);
    char note[CHECKPOINT_NOTE_MAX + 1];
    CHECK(checkpoint_sign(&key, &cp, note, sizeof note) > 0);
    json_t *c = json_object_get(m, "checkpoint");
    if (!json_is_object(c))
        json_object_set_new(m, "checkpoint", c = json_object());
    json_object_set_new(c, "note", json_string(note));
    if (!json_is_true(json_object_get(m, "fuzz_prove")))
        return false;
    json_t *proofs = json_array();
    for (size_t i = 0; i < n; i++) {
        uint8_t path[MERKLE_MAX_HEIGHT][NETLOG_HASH_BYTES];
        int np = merkle_inclusion_proof((const uint8_t(*)[NETLOG_HASH_BYTES])leaves, n, i, path);
        CHECK(np >= 0);
        json_t *arr = json_array();
        for (int j = 0; j < np; j++) {
            char hex[2 * NETLOG_HASH_BYTES + 1];
            sodium_bin2hex(hex, sizeof hex, path[j], NETLOG_HASH_BYTES);
            json_array_append_new(arr, json_string(hex));
        }
        json_array_append_new(proofs,
                              json_pack("{s:I,s:o}", "seq", (json_int_t)i + 1, "path", arr));
    }
    json_object_set_new(m, "proofs", proofs);
    json_t *counts = json_object_get(m, "counts");
    return sound && json_integer_value(json_object_get(counts, "events")) == (json_int_t)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    const uint8_t *nul = memchr(data, '\0', size);
    size_t mlen = nul ? (size_t)(nul - data) : size;
    const char *events = nul ? (const char *)nul + 1 : "";
    size_t elen = nul ? size - mlen - 1 : 0;
    json_error_t e;
    json_t *m = json_loadb((const char *)data, mlen, 0, &e);
    bool sound = false;
    if (json_is_object(m) && json_is_true(json_object_get(m, "fuzz_sign")))
        sound = harness_sign(m, events, elen);
    /* an exactly-sized copy, so a read past the stream's end is caught */
    char *copy = malloc(elen ? elen : 1);
    CHECK(copy != NULL);
    memcpy(copy, events, elen);
    FILE *f = elen ? fmemopen(copy, elen, "r") : fopen("/dev/null", "r");
    CHECK(f != NULL);
    struct bundle_verify_report vr;
    enum bundle_verify_result v = bundle_verify_parts(&key, m, f, "events.jsonl", &vr);
    fclose(f);
    free(copy);
    CHECK(memchr(vr.message, '\0', sizeof vr.message) != NULL);
    if (getenv("QUN_FUZZ_VERBOSE")) /* to see where a seed gets */
        fprintf(stderr, "result %d, sound %d, events %lld: %s\n", (int)v, (int)sound,
                (long long)vr.events, vr.message);
    if (v == BUNDLE_VERIFY_OK) {
        json_t *counts = json_object_get(m, "counts");
        CHECK(json_integer_value(json_object_get(counts, "events")) == vr.events);
    } else {
        CHECK(v == BUNDLE_VERIFY_BAD || v == BUNDLE_VERIFY_ERROR);
        CHECK(vr.message[0] != '\0');
    }
    if (sound && v != BUNDLE_VERIFY_OK) {
        fprintf(stderr, "fuzz_bundle_verify: a sound bundle was refused: %s\n", vr.message);
        abort();
    }
    json_decref(m);
    return 0;
}
