/*
 * server.h - the running server: configuration, start, reload, shutdown,
 * and the glue between the transport (net/) and the IRC layer.
 *
 * server.c implements the transport's conn_ops: it creates a client on
 * accept, parses each line and hands it to the dispatcher, and destroys the
 * client on close. It also owns the timing wheel that drives registration
 * timeouts, pings and flood-penalty resumes, and it holds the daemon's store
 * and vault handles (opened at start-up, closed at shutdown).
 */
#ifndef QUN_IRC_SERVER_H
#define QUN_IRC_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <uv.h>

struct qun_config;
struct client;
struct store;
struct vault;

/* The configuration in force. Replaced as a whole on a successful reload;
 * never NULL while the server runs. */
extern struct qun_config *server_config;

/* The server's version (RPL_VERSION, the console's status). */
#ifndef QUN_VERSION
#define QUN_VERSION "qun-0.1"
#endif

const char *server_name(void);
time_t server_started(void);
uint64_t server_now_ms(void); /* loop clock (monotonic) */

/* Opens listeners and starts accepting. Takes ownership of cfg. On failure
 * writes a sentence to err and returns -1. */
int server_start(uv_loop_t *loop, struct qun_config *cfg, char *err, size_t errlen);
/* Start-up after dropping root (so files belong to server.user): opens
 * the identity vault (creating its 0600 key file on the first start) and
 * the store (applying schema migrations), loads the accounts, creates the
 * identity providers and starts the control socket. Blocks on disk and
 * runs the loop while accounts load: start-up only. A shutdown requested
 * meanwhile runs once this is done. On failure writes a sentence (paths
 * and reasons, never key bytes) to err and returns -1. */
int server_open_storage(char *err, size_t errlen);
/* The open store and vault; NULL before server_open_storage succeeds and,
 * for the store, once shutdown has begun closing it. */
struct store *server_store(void);
const struct vault *server_vault(void);
/* Re-reads the configuration file and TLS certificates (SIGHUP). Clients
 * stay connected. Returns 0, or -1 with err set and the old config kept. */
int server_reload(char *err, size_t errlen);
/* Sends ERROR to every client, closes everything (the store drains its
 * queued writes first); uv_run then returns. */
void server_shutdown(const char *reason);
/* Releases the configuration, TLS context and vault (wiping its keys) after
 * the loop has ended. */
void server_free(void);

/* Re-arms the client's deadline on the timing wheel. */
void server_arm_timer(struct client *c, uint64_t at_ms);
/* Flood control: charges cost_ms to the client; returns true when the client
 * must pause (the transport stops delivering its lines until the wheel
 * resumes it). */
bool server_flood_charge(struct client *c, uint64_t cost_ms);
/* Command ordering across asynchronous work: a command that waits for the
 * thread pool or the store (REGISTER, SASL PLAIN, IDENTIFY...) holds the
 * client; its further lines wait, unread, until every hold is released,
 * so answers come in the order the commands were sent. */
void server_hold(struct client *c);
/* One chat message of this client was delivered (or dropped) after the
 * network log had it; the last one lets a deferred command run. */
void server_message_logged(uint64_t client_id);
/* Releases one hold of the client with this id, if it is still there. */
void server_release_id(uint64_t client_id);
/* Closes the client's connection after sending "ERROR :reason". */
void server_disconnect(struct client *c, const char *reason);

#endif
