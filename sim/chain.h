/*
 * chain.h -- limits chained per user and globally: a request passes a
 * chain only if every tier (a rate limiter of the scenario) admits it.
 *
 *   all_or_nothing      every tier decides; a tier's admission is kept
 *                       only if all admit (one atomic check-and-consume)
 *   in_order_refund     tier by tier, stopping at the first refusal; what
 *                       the tiers before it took is given back
 *   in_order_no_refund  the same without giving it back: what many
 *                       libraries do, and the earlier tiers leak
 * A tier that refuses keeps what its own refusal did to its state, as it
 * would alone. The chain's decision: admitted with the least remaining and
 * the longest delay of its tiers; refused with the refusing tiers' longest
 * retry_after (never when one says never; in order: the first refusal's).
 *
 * Pure: the caller hands each tier's state (a copy it may keep or drop).
 */
#ifndef RATELAB_CHAIN_H
#define RATELAB_CHAIN_H

#include <stdint.h>

#include "scenario.h"

/* The entry kind of a scenario's chains. */
extern const lim_entry chain_entry;

/* "all_or_nothing", "in_order_refund", "in_order_no_refund"; NULL-ended. */
extern const char *const chain_policy_names[];

/* Decides one request of `cost` at now_us through chain c. state[i] is tier
 * i's state for the request's key (zeroed, with fresh[i] 1, for a key the
 * tier never kept); on return keep[i] says whether tier i's new state is
 * kept, and refused[i] counts tier i's refusals. */
void chain_decide(const scn_limiter *c, void *const *state, const int *fresh, int64_t now_us, int64_t cost,
                  lim_decision *out, int *keep, uint64_t *refused);

#endif
