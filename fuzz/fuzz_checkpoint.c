/*
 * fuzz_checkpoint.c - libFuzzer target for the parsers of the network
 * log's signed checkpoints (netlog/checkpoint.c): checkpoint_verify, which
 * reads notes from the log database (and from case bundles, offline), and
 * checkpoint_key_parse_public, which reads the ".pub" verifier key file.
 *
 * Set-up, once per process: a signing key is made from FUZZ_SEED (fixed,
 * public, fuzzing only) through checkpoint_key_load in a temporary
 * directory that is removed at once. The key is fixed so that the seed
 * corpus can hold genuine notes and the success path is reached.
 *
 * Input: the whole input, copied into an exactly-sized heap buffer (so a
 * read past it is caught), is
 *   1. a note given to checkpoint_verify with the fixed key;
 *   2. a NUL-terminated text given to checkpoint_key_parse_public.
 *
 * Checked beyond "no crash, no sanitizer report":
 *   - a note that verifies is genuine: re-signing what was parsed (Ed25519
 *     signatures are deterministic) gives a note that is a prefix of the
 *     input up to its signature line, and its origin is the key's name;
 *   - a key that parses survives format -> parse unchanged, and a note
 *     signed by the fixed key verifies with it only when it is that key.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netlog/checkpoint.h"
#include "fuzz.h"

#define FUZZ_NAME "fuzz.qun.test/qun-log"

/* Not a secret: it exists so that seeds can be genuine signed notes. */
static const uint8_t FUZZ_SEED[32] = {'q', 'u', 'n', '-', 'f', 'u', 'z', 'z', '-', 'c', 'h',
                                      'e', 'c', 'k', 'p', 'o', 'i', 'n', 't', '-', 'k', 'e',
                                      'y', '-', 'p', 'u', 'b', 'l', 'i', 'c', '!', '!'};

static struct checkpoint_key key;
static char sample_note[CHECKPOINT_NOTE_MAX];
static int sample_len;

static void init_once(void)
{
    if (sample_len > 0)
        return;
    char dir[] = "/tmp/qun-fuzz-checkpoint-XXXXXX";
    char path[sizeof dir + 16], pub[sizeof dir + 20], err[512];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/log.key", dir);
    snprintf(pub, sizeof pub, "%s/log.key.pub", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    CHECK(fd >= 0);
    CHECK(write(fd, FUZZ_SEED, sizeof FUZZ_SEED) == (ssize_t)sizeof FUZZ_SEED);
    close(fd);
    if (checkpoint_key_load(path, FUZZ_NAME, &key, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_checkpoint: %s\n", err);
        abort();
    }
    unlink(path);
    unlink(pub);
    rmdir(dir);
    struct checkpoint cp = {.size = 1000};
    snprintf(cp.origin, sizeof cp.origin, "%s", FUZZ_NAME);
    memset(cp.root, 0x5a, sizeof cp.root);
    sample_len = checkpoint_sign(&key, &cp, sample_note, sizeof sample_note);
    CHECK(sample_len > 0);
}

static void fuzz_note(const char *note, size_t size)
{
    struct checkpoint cp;
    memset(&cp, 0, sizeof cp);
    if (!checkpoint_verify(&key, note, size, &cp))
        return;
    /* only a genuine note gets here: re-signing gives its bytes back */
    char again[CHECKPOINT_NOTE_MAX];
    int n = checkpoint_sign(&key, &cp, again, sizeof again);
    CHECK(n > 0);
    const char *sig = strstr(again, "\n\n");
    CHECK(sig != NULL);
    size_t body = (size_t)(sig - again) + 2;
    CHECK(size >= body && memcmp(note, again, body) == 0);
    CHECK(strcmp(cp.origin, FUZZ_NAME) == 0);
}

static void fuzz_public_key(const char *text)
{
    struct checkpoint_key parsed;
    if (!checkpoint_key_parse_public(text, &parsed))
        return;
    char formatted[512];
    CHECK(checkpoint_key_format_public(&parsed, formatted, sizeof formatted) > 0);
    struct checkpoint_key again;
    CHECK(checkpoint_key_parse_public(formatted, &again));
    CHECK(strcmp(again.name, parsed.name) == 0);
    CHECK(memcmp(again.pk, parsed.pk, sizeof again.pk) == 0);
    CHECK(memcmp(again.key_hash, parsed.key_hash, sizeof again.key_hash) == 0);
    struct checkpoint cp;
    bool same = strcmp(parsed.name, key.name) == 0 && memcmp(parsed.pk, key.pk, 32) == 0;
    CHECK(checkpoint_verify(&parsed, sample_note, (size_t)sample_len, &cp) == same);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    char *note = malloc(size ? size : 1); /* exactly sized: no NUL after it */
    CHECK(note != NULL);
    memcpy(note, data, size);
    fuzz_note(note, size);
    free(note);
    char *text = malloc(size + 1);
    CHECK(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';
    fuzz_public_key(text);
    free(text);
    return 0;
}
