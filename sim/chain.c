/* chain.c -- see chain.h. */
#include "chain.h"

const lim_entry chain_entry = {
    .name = "chain",
    .kind = LIM_KIND_CHAIN,
    .summary = "a request passes only if every tier admits it (all_or_nothing, in_order_refund, in_order_no_refund)",
    .level_name = "first-tier-level",
};

const char *const chain_policy_names[] = { "all_or_nothing", "in_order_refund", "in_order_no_refund", NULL };

/* The longer of two waits, never (LIM_RETRY_NEVER) the longest of all. */
static int64_t chain_later(int64_t a, int64_t b)
{
    if (a == LIM_RETRY_NEVER || b == LIM_RETRY_NEVER) return LIM_RETRY_NEVER;
    return a > b ? a : b;
}

void chain_decide(const scn_limiter *c, void *const *state, const int *fresh, int64_t now_us, int64_t cost,
                  lim_decision *out, int *keep, uint64_t *refused)
{
    int in_order = c->policy != SCN_CHAIN_ALL_OR_NOTHING;
    lim_decision d[SCN_MAX_TIERS] = { { 0, 0, 0, 0 } };
    size_t decided = 0, first_refusal = c->n_tiers;
    for (size_t i = 0; i < c->n_tiers; i++) {
        const scn_limiter *t = &c->tiers[i];
        t->ops->decide(&t->cfg, state[i], fresh[i], now_us, cost, &d[i]);
        decided++;
        if (!d[i].allowed) {
            refused[i]++;
            if (first_refusal == c->n_tiers) first_refusal = i;
            if (in_order) break;
        }
    }
    *out = (lim_decision){ 1, d[0].remaining, 0, 0 };
    for (size_t i = 0; i < decided; i++) {
        if (d[i].remaining < out->remaining) out->remaining = d[i].remaining;
        if (d[i].allowed && d[i].delay_us > out->delay_us) out->delay_us = d[i].delay_us;
    }
    for (size_t i = 0; i < c->n_tiers; i++) keep[i] = i < decided;
    if (first_refusal == c->n_tiers) return;
    out->allowed = 0;
    out->delay_us = 0;
    out->retry_after_us = d[first_refusal].retry_after_us;
    for (size_t i = first_refusal + 1; i < decided; i++)
        if (!d[i].allowed) out->retry_after_us = chain_later(out->retry_after_us, d[i].retry_after_us);
    /* what admitted tiers took is given back, unless the policy leaks it */
    if (c->policy != SCN_CHAIN_IN_ORDER_NO_REFUND)
        for (size_t i = 0; i < decided; i++)
            if (d[i].allowed) keep[i] = 0;
}
