/*
 * realtime.h -- a limiter on Redis against the wall clock, with concurrent
 * clients: N threads, one connection each, request k of the scenario sent
 * by client k mod N at start + t_k / speed (open loop: a late reply delays
 * no later send of another client). A client sends, in one pipelined round
 * trip, every request of its own that is due by then, up to in_flight of
 * them: under load a round trip carries many, so a thread is not held to
 * one request per round trip. Latency counts from each request's
 * scheduled time, so a slow server cannot hide its queueing (no
 * coordinated omission).
 *
 * The limiter decides at the client's clock of the scenario's time: the
 * wall time elapsed since the start times the speed (so at speed 10 a
 * limiter of 100/s sees the scenario's seconds, not the wall's), each
 * client offset by a fixed skew spread over [-skew, +skew] wall ms (times
 * the speed on the scenario's clock); or at the server's TIME (speed 1 only: the server's clock is the
 * wall's). The
 * main thread reads the busiest key's level at each tick's end (see
 * rt_supports for a fleet). With a
 * scenario's clients, client k also sends its intents' retries, from a
 * queue of its own, when they are due (clients.h). The
 * oracle then checks what was admitted against the times the limiter
 * decided at (oracle.h).
 */
#ifndef RATELAB_REALTIME_H
#define RATELAB_REALTIME_H

#include <stddef.h>

#include "backend_redis.h"
#include "runner.h"

#define RT_MAX_CLIENTS 256
#define RT_MAX_IN_FLIGHT 1024
#define RT_DEFAULT_IN_FLIGHT 16
#define RT_MAX_REQUESTS 50000000

typedef struct {
    unsigned clients;     /* 1..RT_MAX_CLIENTS */
    unsigned in_flight;   /* 1..RT_MAX_IN_FLIGHT: requests per round trip of one client, at most */
    double speed;         /* virtual seconds per wall second */
    int server_clock;     /* decide at Redis TIME instead of the client's clock */
    double skew_ms;       /* client i's clock is off by -skew + 2*skew*i/(N-1) ms */
    int on_error_allow;
} rt_options;

/* 0 when realtime mode can replay s; else -1 with what it cannot do: a
 * client waiting for its call's answer (retry_on timeout) needs the
 * downstream to answer as the run goes, which it does only in virtual
 * time (realtime mode models the downstream tick by tick, afterwards); a
 * fleet of more nodes than client threads (RT_MAX_CLIENTS) cannot run.
 *
 * A fleet's nodes are the client threads, one connection each (--clients
 * does not apply): the balancer gives each its arrivals; central asks the
 * twin, local and local_sync decide in the node (local_sync pushing and
 * pulling when due), gossip publishes and subscribes, the controller is a
 * thread of rounds on Redis, the lease coordinator a script; a cut closes
 * the node's connection. */
int rt_supports(const scn_scenario *s, char *err, size_t errlen);

/* Runs limiter l of s through backend b (a Redis backend, whose bred is r)
 * in real time. Returns 0, or -1 with a message. */
int rt_run(const scn_scenario *s, gen *g, const scn_limiter *l, bred *r, const run_backend *b,
           const rt_options *o, const run_options *ropt, run_result *out, char *err, size_t errlen);

#endif
