/* decisions.c -- see decisions.h. */
#define _POSIX_C_SOURCE 200809L
#include "decisions.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomicfile.h"
#include "chain.h"
#include "fsutil.h"
#include "keyspace.h"

FILE *dlog_open(af_file *log, const char *dir, const scn_limiter *l, const char *backend, char *err,
                size_t errlen)
{
    if (fs_mkdirs(dir) != 0) {
        snprintf(err, errlen, "%s: cannot create: %s", dir, strerror(errno));
        return NULL;
    }
    char path[4200], params[256];
    snprintf(path, sizeof path, "%s/%s.%s.csv", dir, l->name, backend);
    if (af_open(log, path, err, errlen) != 0) return NULL;
    scn_params(l, params, sizeof params);
    fprintf(log->f, "# ratelab decisions v2\n# limiter %s algorithm %s scope %s backend %s\n# params %s\n"
                    "t_us,key,cost,allowed,delay_us,remaining,retry_after_us\n",
            l->name, l->entry->name, l->global ? "global" : "key", backend, params);
    return log->f;
}

int dlog_close(af_file *log, int keep, char *err, size_t errlen)
{
    if (!keep) {
        af_abandon(log);
        return 0;
    }
    return af_commit(log, err, errlen);
}

/* Sets the limiter's parameters from "name=value name=value" (as
 * lim_format_params writes them; v1 logs separate them with ';') and configures it through the algorithm's schema, so a log
 * is held to the same ranges as a scenario. */
static int dlog_params(scn_limiter *l, char *text, const char *path, char *err, size_t errlen)
{
    lim_default_values(l->entry, l->values);
    unsigned given = 0;
    for (char *save = NULL, *tok = strtok_r(text, "; ", &save); tok; tok = strtok_r(NULL, "; ", &save)) {
        char *eq = strchr(tok, '=');
        int i = eq ? (*eq = '\0', lim_param_index(l->entry, tok)) : -1;
        if (i < 0) {
            snprintf(err, errlen, "%s:3: params: '%.60s' is not a parameter of %s", path, tok, l->entry->name);
            return -1;
        }
        char why[300];
        if (lim_param_parse(&l->entry->params[i], eq + 1, &l->values[i], &l->rates[i], why, sizeof why) != 0) {
            snprintf(err, errlen, "%s:3: params: %s: %s", path, tok, why);
            return -1;
        }
        given |= 1u << i;
    }
    for (size_t i = 0; i < l->entry->n_params; i++)
        if (l->entry->params[i].required && !(given & (1u << i))) {
            snprintf(err, errlen, "%s:3: params: %s: required", path, l->entry->params[i].name);
            return -1;
        }
    char msg[300];
    /* the log is judged, never decided again: configuring only checks the
     * parameters, and each row's cost is checked as it is read */
    l->cfg.max_cost = 1;
    if (lim_configure_checked(l->entry, l->values, l->rates, &l->cfg, msg, sizeof msg) != 0) {
        snprintf(err, errlen, "%s:3: params: %s", path, msg);
        return -1;
    }
    return 0;
}

/* What follows delay_us on a row: nothing in v1; in v2
 * ",remaining,retry_after_us" (retry_after_us empty for never). */
static int dlog_tail(const char *p, int v2)
{
    if (!v2) return *p == '\n' || *p == '\0';
    char *end;
    if (*p++ != ',') return 0;
    long long remaining = strtoll(p, &end, 10);
    if (end == p || *end != ',' || remaining <= -LIM_SAFE_MAX || remaining >= LIM_SAFE_MAX) return 0;
    p = end + 1;
    if (*p == '\n' || *p == '\0') return 1;
    long long retry = strtoll(p, &end, 10);
    return end != p && (*end == '\n' || *end == '\0') && retry >= 0 && retry < LIM_SAFE_MAX;
}

int dlog_check(const char *path, orc_report *r, char *limiter_name, char *worst_key, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    /* A log is read twice (its keys size the check), which a pipe, a FIFO
     * or a process substitution cannot be: refused, never judged on
     * nothing. */
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file (a pipe or a FIFO cannot be read twice): save the log to a "
                              "file and check that", path);
        fclose(f);
        return -1;
    }
    char line[1024], algo[64] = "", scope[16] = "", backend[16] = "";
    scn_limiter l;
    memset(&l, 0, sizeof l);
    int rc = -1;
    kspace *keys = kspace_create();
    orc_check *c = NULL;
    size_t n = 0;
    if (!keys) { snprintf(err, errlen, "out of memory"); goto done; }
    int v2 = 0;
    if (!fgets(line, sizeof line, f) ||
        (strcmp(line, "# ratelab decisions v1\n") != 0 && !(v2 = strcmp(line, "# ratelab decisions v2\n") == 0))) {
        snprintf(err, errlen, "%s:1: not a ratelab decision log (expected '# ratelab decisions v2', or v1)", path);
        goto done;
    }
    const char *columns = v2 ? "t_us,key,cost,allowed,delay_us,remaining,retry_after_us" : "t_us,key,cost,allowed,delay_us";
    if (!fgets(line, sizeof line, f) ||
        sscanf(line, "# limiter %63s algorithm %63s scope %15s backend %15s", l.name, algo, scope, backend) != 4) {
        snprintf(err, errlen, "%s:2: expected '# limiter NAME algorithm ALGO scope SCOPE backend BACKEND'", path);
        goto done;
    }
    if (strcmp(algo, chain_entry.name) == 0) {
        snprintf(err, errlen, "%s:2: a chain's log cannot be checked alone: its tiers' parameters are not in it (the "
                              "run's oracle held it to every tier's promise: see violations in summary.csv)", path);
        goto done;
    }
    if (!(l.entry = lim_find_entry(algo))) { snprintf(err, errlen, "%s:2: unknown algorithm '%s'", path, algo); goto done; }
    l.ops = lim_entry_limiter(l.entry);
    if (!l.ops || !orc_judges(l.ops)) {
        snprintf(err, errlen, "%s:2: %s is not a rate limiter: the oracle has no promise of it to check", path, algo);
        goto done;
    }
    l.global = strcmp(scope, "global") == 0;
    if (!fgets(line, sizeof line, f) || strncmp(line, "# params ", 9) != 0) {
        snprintf(err, errlen, "%s:3: expected '# params name=value name=value...'", path);
        goto done;
    }
    line[strcspn(line, "\n")] = '\0';
    if (dlog_params(&l, line + 9, path, err, errlen) != 0) goto done;
    if (!fgets(line, sizeof line, f) || strncmp(line, columns, strlen(columns)) != 0 || line[strlen(columns)] != '\n') {
        snprintf(err, errlen, "%s:4: expected the header %s", path, columns);
        goto done;
    }
    /* keys first, so the check can be sized once; the second pass reads
     * no further than the first did, and every key must be one it saw (a
     * log still being written may have grown in between) */
    long rows_at = ftell(f), rows_end = rows_at;
    for (size_t no = 5; fgets(line, sizeof line, f); no++, rows_end = ftell(f)) {
        char *a = strchr(line, ','), *b = a ? strchr(a + 1, ',') : NULL;
        if (!b || kspace_intern(keys, a + 1, (size_t)(b - a - 1)) < 0) {
            snprintf(err, errlen, "%s:%zu: expected %s", path, no, columns);
            goto done;
        }
    }
    if (!(c = orc_check_create(&l, kspace_count(keys) ? kspace_count(keys) : 1))) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    if (rows_at < 0 || rows_end < 0 || fseek(f, rows_at, SEEK_SET) != 0) {
        snprintf(err, errlen, "%s: cannot read it again: %s", path, strerror(errno));
        goto done;
    }
    int64_t last = INT64_MIN;
    size_t n_keys = kspace_count(keys);
    for (size_t no = 5; ftell(f) < rows_end && fgets(line, sizeof line, f); no++, n++) {
        char key[300];
        long long t, delay;
        unsigned cost;
        int allowed;
        int at = 0;
        if (sscanf(line, "%lld,%299[^,],%u,%d,%lld%n", &t, key, &cost, &allowed, &delay, &at) != 5 || cost < 1 ||
            cost > LIM_COUNT_MAX || (allowed != 0 && allowed != 1) || delay < 0 || t <= -LIM_SAFE_MAX ||
            t >= LIM_SAFE_MAX || delay >= LIM_SAFE_MAX || !dlog_tail(line + at, v2)) {
            snprintf(err, errlen, "%s:%zu: expected t_us (|t| < 2^53),key,cost (1 to %.0f),allowed (0 or 1),"
                                  "delay_us (0 to 2^53)%s", path, no, LIM_COUNT_MAX,
                     v2 ? ",remaining (an integer),retry_after_us (an integer, or empty for never)" : "");
            goto done;
        }
        int64_t id = kspace_intern(keys, key, strlen(key));
        if (id < 0 || (size_t)id >= n_keys) {
            snprintf(err, errlen, "%s:%zu: the log changed while it was read", path, no);
            goto done;
        }
        if (t < last) {
            snprintf(err, errlen, "%s:%zu: t_us %lld is earlier than the line before: a log is in time order", path, no, t);
            goto done;
        }
        last = t;
        lim_decision d = { allowed, 0, 0, delay };
        orc_check_add(c, (uint32_t)id, t, cost, &d);
    }
    orc_check_report(c, r);
    snprintf(limiter_name, 64, "%s", l.name);
    snprintf(worst_key, 300, "%s", n && r->violations ? kspace_name(keys, r->worst_key) : "");
    rc = 0;
done:
    orc_check_destroy(c);
    kspace_destroy(keys);
    fclose(f);
    return rc;
}
