/*
 * group.h - groups: the persistent side of a channel (SPEC §5, art. 7-9).
 *
 * Every channel created by a logged-in user is a group: a permanent
 * numeric code (never reused), an owner, a category, persistent members
 * with roles (owner ~, manager @, voiced +), bans, modes, topic and join
 * requests, all written through to the store and loaded at start-up, so a
 * group with nobody online still exists and a manager who reconnects is
 * still a manager. The group data lives in struct channel (channel.h);
 * this module owns its rules and its persistence.
 *
 * Caps (art. 8) are decided here, from the credit level lookup
 * (credit/credit.h) and the policy table (config group_policy: category x
 * size class). Every refusal is a sentence with the limit and the reason.
 *
 * Accountability (art. 9): every management action is an audit record
 * with its author, target and time (account_audit).
 *
 * Invariants:
 *   1. ch->code > 0 for a group; codes increase and are never reused
 *      (dissolved groups keep their row).
 *   2. A group has exactly one ROLE_OWNER member, ch->owner_id.
 *   3. account->groups_owned / groups_joined count live groups.
 *   4. Writes go through the store's writer thread in order; the loop
 *      never waits for them (the network log issue makes group events
 *      durable before they are delivered).
 */
#ifndef QUN_IRC_GROUP_H
#define QUN_IRC_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct account;
struct channel;
struct client;
struct store;
struct group_member;

enum group_size { GROUP_SMALL = 0, GROUP_MEDIUM = 1, GROUP_LARGE = 2 };

/* Start-up: loads every live group into the channel registry. */
int group_load(uv_loop_t *loop, struct store *st, char *err, size_t errlen);
void group_detach_store(void);

/* Members counted for caps: persistent members plus online guests. */
size_t group_member_count(const struct channel *ch);
enum group_size group_size_class(size_t members);
const char *group_size_name(enum group_size s);
/* Messages in the last 7 days. */
uint32_t group_activity(struct channel *ch);
void group_note_message(struct channel *ch);
/* "Group 10001, category friends, small (3 members), owner ..., N messages
 * in 7 days." (a static buffer: use before the next call). */
const char *group_describe(struct channel *ch);
/* Whether joins need approval (the group's switch or its policy row). */
bool group_needs_approval(const struct channel *ch);

struct group_member *group_member_find(const struct channel *ch, int64_t account_id);
/* The live group with this code, or NULL. */
struct channel *group_find_code(int64_t code);

/* Checks (each writes a sentence into why when it refuses). */
bool group_may_create(struct client *c, const char *category, char *why, size_t len);
/* May c join ch as a new member? *code gets a FAIL code when not. */
bool group_may_join(struct client *c, struct channel *ch, const char **code, char *why, size_t len);
/* Room for one more member (the owner's cap, the policy, 100/500)? */
bool group_has_room(const struct channel *ch, char *why, size_t len);
/* May account a be a manager (identity level, credit)? */
bool group_may_manage(const struct account *a, char *why, size_t len);

/* Changes (write-through). */
struct channel *group_create(const char *name, struct account *owner, const char *category);
void group_member_add(struct channel *ch, struct account *a, int role);
void group_member_remove(struct channel *ch, int64_t account_id);
void group_member_set_role(struct channel *ch, int64_t account_id, int role);
void group_member_set_mute(struct channel *ch, int64_t account_id, int64_t until);
void group_save(struct channel *ch); /* modes, key, limit, topic, approval, lists */
void group_set_category(struct channel *ch, const char *category);
/* Queues a join request; false when it was already queued. */
bool group_request_add(struct channel *ch, int64_t account_id);
bool group_request_remove(struct channel *ch, int64_t account_id);
void group_transfer_offer(struct channel *ch, int64_t to);
void group_transfer_complete(struct channel *ch, struct account *new_owner);
/* Ends the group (its row stays, so the code is never reused) and makes
 * the channel transient; the caller removes the online members and
 * destroys the channel once it is empty. */
void group_dissolve(struct channel *ch);

/* May someone with actor_role give target new_role in ch? (owner: managers;
 * managers: voice; nobody: owner, which moves by TRANSFER). */
bool group_role_allowed(const struct channel *ch, int actor_role, const struct account *target,
                        int new_role, char *why, size_t len);
/* Applies a role (after group_role_allowed): persists it and announces the
 * MODE change from source for each online connection of the account. */
void group_apply_role(struct channel *ch, const char *source, struct account *target, int new_role);

/* After a login: gives c, already in ch, the prefix of its account's role
 * (announced from source). */
void group_show_role(struct channel *ch, struct client *c, const char *source);

/* The member flags (MEMBER_*) a role shows as. */
uint8_t group_role_flags(int role);
/* The role of a client in ch (ROLE_MEMBER when none). */
int group_role_of(const struct channel *ch, const struct client *c);
/* The role c may act with: its role, except that an owner or manager
 * whose management rights are sanctioned (sanction_may_manage) acts as a
 * voiced member (why gets the sanction's sentence; may be NULL). Every
 * check of management rights asks this, not group_role_of. */
int group_acting_role(const struct channel *ch, const struct client *c, char *why, size_t len);
/* Re-shows a's prefixes in every group it is in after its management
 * rights changed (MODE from ChanServ). */
void group_refresh_roles(struct account *a);

#endif
