#define _POSIX_C_SOURCE 200809L
/* --out and --log-decisions never remove what ratelab did not write: the
 * hostile targets of a user's typo (a directory of theirs, a file, the
 * working directory, a link, a trailing slash), each with its own run. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../sim/fsutil.h"
#include "support.h"

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Runs the small steady scenario with --out `out` (and more args). */
static int run_out(const char *out, const char *extra1, const char *extra2, char *err, size_t errlen)
{
    const char *argv[] = { "run", "scenarios/steady.json", "--only", "token_bucket", "--quiet", "--out", out,
                           extra1, extra2, NULL };
    return tsup_run(argv, err, errlen);
}

Test(outdir, a_directory_of_the_users_is_refused_and_left_whole)
{
    char *dir = tsup_tempdir(), target[512], file[600], err[2048];
    snprintf(target, sizeof target, "%s/mine", dir);
    mkdir(target, 0777);
    snprintf(file, sizeof file, "%s/thesis.tex", target);
    write_file(file, "precious");
    cr_assert_eq(run_out(target, NULL, NULL, err, sizeof err), 2, "%s", err);
    cr_assert(strstr(err, "is not a ratelab results directory (it holds 'thesis.tex'"), "%s", err);
    char *text = tsup_slurp(file);
    cr_assert_str_eq(text, "precious");
    free(text);
    /* with a trailing slash too */
    char slashed[520];
    snprintf(slashed, sizeof slashed, "%s/", target);
    cr_assert_eq(run_out(slashed, NULL, NULL, err, sizeof err), 2, "%s", err);
    cr_assert(exists(file));
    tsup_rmtree(dir);
    free(dir);
}

Test(outdir, a_regular_file_a_link_and_the_working_directory_are_refused)
{
    char *dir = tsup_tempdir(), file[512], link[512], theirs[512], err[2048];
    snprintf(file, sizeof file, "%s/notes.txt", dir);
    write_file(file, "keep");
    cr_assert_eq(run_out(file, NULL, NULL, err, sizeof err), 2);
    cr_assert(strstr(err, "exists and is not a directory"), "%s", err);
    char *text = tsup_slurp(file);
    cr_assert_str_eq(text, "keep");
    free(text);

    snprintf(theirs, sizeof theirs, "%s/empty", dir);
    mkdir(theirs, 0777);
    snprintf(link, sizeof link, "%s/link", dir);
    cr_assert_eq(symlink(theirs, link), 0);
    cr_assert_eq(run_out(link, NULL, NULL, err, sizeof err), 2);
    cr_assert(strstr(err, "is a symbolic link"), "%s", err);
    struct stat st;
    cr_assert_eq(lstat(link, &st), 0);
    cr_assert(S_ISLNK(st.st_mode), "the link is still a link");

    char cwd[4096];
    cr_assert(getcwd(cwd, sizeof cwd));
    cr_assert_eq(run_out(cwd, NULL, NULL, err, sizeof err), 2);
    cr_assert(strstr(err, "is not a ratelab results directory"), "%s", err);
    cr_assert_eq(run_out(".", NULL, NULL, err, sizeof err), 2);
    cr_assert(exists("Makefile") && exists("scenarios/steady.json"), "the working directory is untouched");
    tsup_rmtree(dir);
    free(dir);
}

Test(outdir, a_results_directory_is_replaced_with_a_trailing_slash_and_keeps_its_sweep)
{
    char *dir = tsup_tempdir(), target[512], slashed[520], sweep[600], err[2048];
    snprintf(target, sizeof target, "%s/res", dir);
    snprintf(slashed, sizeof slashed, "%s/", target);
    cr_assert_eq(run_out(slashed, NULL, NULL, err, sizeof err), 0, "%s", err);
    char marker[600];
    snprintf(marker, sizeof marker, "%s/%s", target, FS_RESULTS_MARKER);
    cr_assert(exists(marker), "a results directory carries the marker");
    snprintf(sweep, sizeof sweep, "%s/sweep", target);
    mkdir(sweep, 0777);
    char kept[700];
    snprintf(kept, sizeof kept, "%s/token_bucket.csv", sweep);
    write_file(kept, "rate\n");
    cr_assert_eq(run_out(slashed, NULL, NULL, err, sizeof err), 0, "%s", err);
    cr_assert(exists(kept), "the sweep survives a run given with a trailing slash");
    char summary[600];
    snprintf(summary, sizeof summary, "%s/summary.csv", target);
    cr_assert(exists(summary));
    tsup_rmtree(dir);
    free(dir);
}

Test(outdir, an_empty_directory_is_used_and_one_without_the_marker_is_refused)
{
    char *dir = tsup_tempdir(), target[512], path[600], err[2048];
    snprintf(target, sizeof target, "%s/old", dir);
    mkdir(target, 0777);
    cr_assert_eq(run_out(target, NULL, NULL, err, sizeof err), 0, "%s", err);
    snprintf(path, sizeof path, "%s/%s", target, FS_RESULTS_MARKER);
    cr_assert_eq(unlink(path), 0);   /* the same names, but nothing says ratelab wrote them */
    cr_assert_eq(run_out(target, NULL, NULL, err, sizeof err), 2, "%s", err);
    cr_assert(strstr(err, "is not a ratelab results directory"), "%s", err);
    snprintf(path, sizeof path, "%s/summary.csv", target);
    cr_assert(exists(path), "left whole");
    tsup_rmtree(dir);
    free(dir);
}

/* Names a run writes, put there by the user: theirs all the same. */
Test(outdir, a_users_own_index_html_or_plots_folder_is_refused_and_left_whole)
{
    char *dir = tsup_tempdir(), target[512], path[700], err[2048];
    snprintf(target, sizeof target, "%s/page", dir);
    mkdir(target, 0777);
    snprintf(path, sizeof path, "%s/index.html", target);
    write_file(path, "<p>my own page</p>");
    cr_assert_eq(run_out(target, NULL, NULL, err, sizeof err), 2, "%s", err);
    cr_assert(strstr(err, "it holds 'index.html', and no .ratelab-results"), "%s", err);
    char *text = tsup_slurp(path);
    cr_assert_str_eq(text, "<p>my own page</p>");
    free(text);
    snprintf(target, sizeof target, "%s/figures", dir);
    mkdir(target, 0777);
    snprintf(path, sizeof path, "%s/plots", target);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/plots/fig1.png", target);
    write_file(path, "png");
    cr_assert_eq(run_out(target, NULL, NULL, err, sizeof err), 2, "%s", err);
    cr_assert(exists(path), "the user's figure is still there");
    tsup_rmtree(dir);
    free(dir);
}

/* --out "$PWD" inside a results directory: the working directory by its
 * absolute path is refused as '.' is, and so is a directory holding it. */
Test(outdir, the_working_directory_by_its_absolute_path_is_refused)
{
    char *dir = tsup_tempdir(), target[512], inner[600], args[4400], err[2048], repo[2048];
    snprintf(target, sizeof target, "%s/res", dir);
    cr_assert_eq(run_out(target, NULL, NULL, err, sizeof err), 0, "%s", err);   /* a marked results directory */
    snprintf(inner, sizeof inner, "%s/plots", target);
    mkdir(inner, 0777);
    cr_assert(getcwd(repo, sizeof repo));
    static const char *const outs[] = { "\"$PWD\"", "\"$(dirname \"$PWD\")\"" };
    for (size_t i = 0; i < 2; i++) {
        snprintf(args, sizeof args, "run '%s/scenarios/steady.json' --only token_bucket --quiet --out %s", repo, outs[i]);
        cr_assert_eq(tsup_run_in(i ? inner : target, args, err, sizeof err), 2, "%s: %s", args, err);
        cr_assert(strstr(err, i ? "is the working directory or holds it" : "is the working directory;"), "%s", err);
    }
    char path[700];
    snprintf(path, sizeof path, "%s/summary.csv", target);
    cr_assert(exists(path) && exists(inner), "left whole");
    tsup_rmtree(dir);
    free(dir);
}

/* ratelab sweep --out holds the user's directory to the same rule, and
 * writes no page beside a sweep/ into a directory that is not ratelab's. */
Test(outdir, sweep_out_refuses_a_users_directory_and_writes_no_page_into_one, .timeout = 120)
{
    char *dir = tsup_tempdir(), target[512], path[700], err[2048];
    snprintf(target, sizeof target, "%s/notes", dir);
    mkdir(target, 0777);
    snprintf(path, sizeof path, "%s/run.json", target);
    write_file(path, "mine");
    const char *argv[] = { "sweep", "scenarios/steady.json", "--algo", "token_bucket", "--params", "rate=100,200",
                           "--quiet", "--out", target, NULL };
    cr_assert_eq(tsup_run(argv, err, sizeof err), 2, "%s", err);
    cr_assert(strstr(err, "is not a ratelab results directory (it holds 'run.json'"), "%s", err);
    char *text = tsup_slurp(path);
    cr_assert_str_eq(text, "mine", "the user's run.json is not overwritten");
    free(text);
    /* into notes/sweep: the sweep is written, the page beside it is not */
    char sub[600];
    snprintf(sub, sizeof sub, "%s/sweep", target);
    argv[8] = sub;
    cr_assert_eq(tsup_run(argv, err, sizeof err), 0, "%s", err);
    snprintf(path, sizeof path, "%s/index.html", target);
    cr_assert(!exists(path), "no page into the user's directory");
    snprintf(path, sizeof path, "%s/%s", sub, FS_RESULTS_MARKER);
    cr_assert(exists(path), "the sweep's own directory is marked");
    /* a second sweep into it replaces its own files */
    cr_assert_eq(tsup_run(argv, err, sizeof err), 0, "%s", err);
    tsup_rmtree(dir);
    free(dir);
}

Test(outdir, decision_logs_inside_the_results_are_refused_and_a_missing_parent_is_made)
{
    char *dir = tsup_tempdir(), target[512], logs[600], err[2048];
    snprintf(target, sizeof target, "%s/res", dir);
    snprintf(logs, sizeof logs, "%s/./res/logs", dir);
    cr_assert_eq(run_out(target, "--log-decisions", logs, err, sizeof err), 2);
    cr_assert(strstr(err, "lies inside the results directory"), "%s", err);
    cr_assert_not(exists(target), "nothing written");
    cr_assert_eq(run_out(target, "--log-decisions", target, err, sizeof err), 2);
    snprintf(logs, sizeof logs, "%s/a/b/logs", dir);
    cr_assert_eq(run_out(target, "--log-decisions", logs, err, sizeof err), 0, "%s", err);
    char log[700];
    snprintf(log, sizeof log, "%s/token_bucket.memory.csv", logs);
    cr_assert(exists(log), "%s", log);
    tsup_rmtree(dir);
    free(dir);
}

Test(outdir, absolute_paths_resolve_dots_lexically)
{
    char out[256];
    cr_assert_eq(fs_absolute("/a/./b//c/../d/", out, sizeof out), 0);
    cr_assert_str_eq(out, "/a/b/d");
    cr_assert_eq(fs_absolute("/..", out, sizeof out), 0);
    cr_assert_str_eq(out, "/");
    cr_assert(fs_within("/a/b/d", "/a/b"));
    cr_assert(fs_within("/a/b", "/a/b"));
    cr_assert_not(fs_within("/a/bc", "/a/b"));
}
