/* The build plan: stages and bases, ARG scoping (global, per stage,
 * --build-arg, platform and proxy args), the image config a stage ends with
 * (ENV, WORKDIR, USER, CMD, ENTRYPOINT, HEALTHCHECK, ...), RUN/COPY steps,
 * ONBUILD, and errors naming the Dockerfile line and instruction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/build_plan.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/xalloc.h"
#include "test.h"

static struct build_plan *plan_of(const char *text, const struct build_plan_opts *opts, struct stack_error **err) {
  struct dockerfile *df = NULL;
  if (dockerfile_parse("Dockerfile", text, strlen(text), &df, err) < 0)
    return NULL;
  struct build_plan *p = NULL;
  if (build_plan_create(df, opts, &p, err) < 0)
    return NULL;
  return p;
}

static const char *env_of(char *const *env, const char *key) {
  size_t kl = strlen(key);
  for (size_t i = 0; env && env[i]; i++)
    if (strncmp(env[i], key, kl) == 0 && env[i][kl] == '=')
      return env[i] + kl + 1;
  return NULL;
}

static bool strv_eq(char *const *v, const char *const *want) {
  size_t i = 0;
  for (; v && v[i] && want[i]; i++)
    if (strcmp(v[i], want[i]) != 0)
      return false;
  return (v == NULL || v[i] == NULL) && want[i] == NULL;
}

static void stages(void) {
  const char *text = "ARG BASE=debian\n"
                     "ARG TAG\n"
                     "FROM --platform=$BUILDPLATFORM ${BASE}:${TAG:-stable} AS Builder\n"
                     "RUN make\n"
                     "FROM scratch AS unused\n"
                     "FROM builder AS test\n"
                     "RUN make test\n"
                     "FROM busybox\n"
                     "COPY --from=builder /out /bin/\n"
                     "COPY --from=0 /a /b\n"
                     "COPY --from=alpine:3 /etc/os-release /\n"
                     "RUN --mount=type=bind,from=test,target=/t true\n";
  char *args[] = {"TAG=12", NULL};
  struct build_plan_opts o = {.build_args = args, .build_platform = "linux/arm64/v8"};
  _cleanup_error_ struct stack_error *err = NULL;
  struct build_plan *p = plan_of(text, &o, &err);
  CHECK_MSG(p != NULL, "%s", err ? err->msg : "");
  if (!p)
    return;
  CHECK_INTEQ(p->n_stages, 4);
  CHECK_INTEQ(p->target, 3);
  CHECK_STREQ(p->stages[0].name, "builder");
  CHECK(p->stages[0].base == BUILD_BASE_IMAGE);
  CHECK_STREQ(p->stages[0].base_ref, "debian:12");
  CHECK_STREQ(p->stages[0].platform, "linux/arm64/v8");
  CHECK_INTEQ(p->stages[0].line, 3);
  CHECK_INTEQ(p->stages[0].n_nodes, 1);
  CHECK(p->stages[1].base == BUILD_BASE_SCRATCH);
  CHECK(!p->stages[1].needed);
  CHECK(p->stages[2].base == BUILD_BASE_STAGE && p->stages[2].base_stage == 0);
  CHECK(p->stages[3].base == BUILD_BASE_IMAGE);
  CHECK_STREQ(p->stages[3].base_ref, "busybox");
  CHECK(p->stages[3].needed && p->stages[2].needed && p->stages[0].needed);
  CHECK_INTEQ(p->stages[3].n_deps, 2); /* builder (twice, as 0), test */
  CHECK_STREQ(env_of(p->global_args, "BUILDARCH"), "arm64");
  CHECK_STREQ(env_of(p->global_args, "TARGETVARIANT"), "v8");

  _cleanup_(build_stage_result_freep) struct build_stage_result *r = NULL;
  CHECK(build_stage_resolve(p, 3, NULL, &r, &err) == 0);
  if (r) {
    CHECK_INTEQ(r->n_steps, 4);
    CHECK(r->steps[0].kind == BUILD_STEP_COPY && r->steps[0].from_stage == 0);
    CHECK_STREQ(r->steps[0].dest, "/bin/");
    CHECK(r->steps[1].from_stage == 0);
    CHECK(r->steps[2].from_stage == -1);
    CHECK_STREQ(r->steps[2].from, "alpine:3");
    CHECK(r->steps[3].n_mounts == 1 && r->steps[3].mounts[0].from_stage == 2);
    CHECK(r->steps[3].mounts[0].readonly);
    CHECK_STREQ(r->steps[0].created_by, "COPY --from=builder /out /bin/ # buildkit");
  }

  /* --target */
  build_plan_free(p);
  o.target = "TEST";
  p = plan_of(text, &o, &err);
  CHECK(p && p->target == 2 && p->stages[0].needed && !p->stages[3].needed);
  build_plan_free(p);
  o.target = "nope";
  CHECK(plan_of(text, &o, &err) == NULL);
  CHECK(err && strstr(err->msg, "target stage \"nope\" could not be found (its stages: builder, unused, test)"));
}

static void arg_scoping(void) {
  const char *text = "ARG V=1\n"
                     "ARG ONLYGLOBAL=g\n"
                     "FROM busybox\n"
                     "RUN echo $V $ONLYGLOBAL\n"
                     "ARG V\n"
                     "ARG D=${V}-x\n"
                     "ARG TARGETARCH\n"
                     "ARG UNSET\n"
                     "ENV D=env-$D\n"
                     "ARG D=ignored-since-env\n"
                     "RUN echo $V $D $TARGETARCH\n";
  char *args[] = {"http_proxy=http://proxy:3128", "NO_PROXY=localhost", "UNSET=given", NULL};
  struct build_plan_opts o = {.build_args = args, .target_platform = "linux/riscv64"};
  _cleanup_error_ struct stack_error *err = NULL;
  struct build_plan *p = plan_of(text, &o, &err);
  CHECK_MSG(p != NULL, "%s", err ? err->msg : "");
  if (!p)
    return;
  _cleanup_(build_stage_result_freep) struct build_stage_result *r = NULL;
  CHECK_MSG(build_stage_resolve(p, 0, NULL, &r, &err) == 0, "%s", err ? err->msg : "");
  if (r) {
    const struct build_step *run1 = &r->steps[0], *run2 = &r->steps[r->n_steps - 1];
    CHECK(run1->kind == BUILD_STEP_RUN && run2->kind == BUILD_STEP_RUN);
    /* before `ARG V` in the stage the global V is not in scope */
    CHECK(env_of(run1->env, "V") == NULL);
    CHECK(env_of(run1->env, "ONLYGLOBAL") == NULL);
    CHECK_STREQ(env_of(run2->env, "V"), "1");
    CHECK_STREQ(env_of(run2->env, "TARGETARCH"), "riscv64");
    CHECK_STREQ(env_of(run2->env, "UNSET"), "given");
    /* ARG D=... after ENV D: the reference sets the ARG in the state too */
    CHECK_STREQ(env_of(run2->env, "D"), "ignored-since-env");
    CHECK_STREQ(env_of(r->config.env, "D"), "env-1-x");
    /* proxies reach RUN without an ARG, and stay out of the history */
    CHECK_STREQ(env_of(run1->env, "http_proxy"), "http://proxy:3128");
    CHECK_STREQ(env_of(run1->env, "NO_PROXY"), "localhost");
    CHECK(strstr(run2->created_by, "proxy") == NULL);
    CHECK_STREQ(run1->created_by, "RUN /bin/sh -c echo $V $ONLYGLOBAL # buildkit");
    CHECK_STREQ(run2->created_by,
                "RUN |4 V=1 D=ignored-since-env TARGETARCH=riscv64 UNSET=given "
                "/bin/sh -c echo $V $D $TARGETARCH # buildkit");
    /* no build args in the image's Env */
    CHECK(env_of(r->config.env, "V") == NULL);
    CHECK(env_of(r->config.env, "http_proxy") == NULL);
  }
  build_plan_free(p);

  /* a global ARG's default can use an earlier one and a --build-arg wins */
  char *args2[] = {"B=override", NULL};
  struct build_plan_opts o2 = {.build_args = args2};
  p = plan_of("ARG A=a\nARG B=$A-b\nARG C=${B}-c\nFROM img:$C\n", &o2, &err);
  CHECK(p && strcmp(p->stages[0].base_ref, "img:override-c") == 0);
  build_plan_free(p);
}

static void image_config(void) {
  const char *text = "FROM base\n"
                     "ENV A=1 B=$A\n"
                     "ENV A=2\n"
                     "ENV LEGACY some value\n"
                     "WORKDIR app\n"
                     "WORKDIR ../srv/$A\n"
                     "USER ${NAME:-nobody}:1000\n"
                     "LABEL org.example=\"x y\" other=z\n"
                     "LABEL org.example=again\n"
                     "EXPOSE 80 8000-8002/udp ${PORT}\n"
                     "VOLUME [\"/data\", \"/cache\"]\n"
                     "VOLUME /logs\n"
                     "STOPSIGNAL SIGQUIT\n"
                     "SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\n"
                     "CMD echo $HOME\n"
                     "HEALTHCHECK --interval=1m30s --timeout=500ms --start-period=5s --retries=3 CMD curl -f http://localhost/\n"
                     "MAINTAINER someone@example.com\n"
                     "COPY <<EOF rel/\n"
                     "A is $A\n"
                     "EOF\n";
  char *benv[] = {"PATH=/usr/bin", "PORT=9090", NULL};
  char *bcmd[] = {"base-cmd", NULL};
  char *bep[] = {"/entry", NULL};
  struct build_config base = {.env = benv, .cmd = bcmd, .entrypoint = bep, .working_dir = "/base"};
  _cleanup_error_ struct stack_error *err = NULL;
  struct build_plan *p = plan_of(text, NULL, &err);
  CHECK_MSG(p != NULL, "%s", err ? err->msg : "");
  if (!p)
    return;
  _cleanup_(build_stage_result_freep) struct build_stage_result *r = NULL;
  CHECK_MSG(build_stage_resolve(p, 0, &base, &r, &err) == 0, "%s", err ? err->msg : "");
  if (r) {
    struct build_config *c = &r->config;
    CHECK(strv_eq(c->env, (const char *[]){"PATH=/usr/bin", "PORT=9090", "A=2", "B=", "LEGACY=some value", NULL}));
    CHECK_STREQ(c->working_dir, "/base/srv/2");
    CHECK_STREQ(c->user, "nobody:1000");
    CHECK(strv_eq(c->labels, (const char *[]){"org.example=again", "other=z", NULL}));
    CHECK(strv_eq(c->exposed_ports, (const char *[]){"80/tcp", "8000/udp", "8001/udp", "8002/udp", "9090/tcp", NULL}));
    CHECK(strv_eq(c->volumes, (const char *[]){"/cache", "/data", "/logs", NULL}));
    CHECK_STREQ(c->stop_signal, "SIGQUIT");
    CHECK(strv_eq(c->cmd, (const char *[]){"/bin/bash", "-o", "pipefail", "-c", "echo $HOME", NULL}));
    CHECK(strv_eq(c->entrypoint, (const char *[]){"/entry", NULL}));
    CHECK(strv_eq(c->health.test, (const char *[]){"CMD-SHELL", "curl -f http://localhost/", NULL}));
    CHECK_INTEQ(c->health.interval_ns, 90000000000LL);
    CHECK_INTEQ(c->health.timeout_ns, 500000000LL);
    CHECK_INTEQ(c->health.start_period_ns, 5000000000LL);
    CHECK_INTEQ(c->health.retries, 3);
    CHECK_STREQ(c->author, "someone@example.com");
    CHECK_INTEQ(c->n_history, 17);
    CHECK_STREQ(c->history[0].created_by, "ENV A=1 B=");
    CHECK(c->history[0].empty_layer);
    CHECK_STREQ(c->history[3].created_by, "WORKDIR /base/app # buildkit");
    CHECK(!c->history[3].empty_layer);
    CHECK_STREQ(c->history[13].created_by, "CMD [\"/bin/bash\" \"-o\" \"pipefail\" \"-c\" \"echo $HOME\"]");
    const struct build_step *cp = &r->steps[r->n_steps - 1];
    CHECK(cp->kind == BUILD_STEP_COPY);
    CHECK_STREQ(cp->dest, "/base/srv/2/rel/");
    CHECK(cp->n_contents == 1 && strcmp(cp->contents[0].data, "A is 2\n") == 0);
    CHECK(cp->sources && cp->sources[0] == NULL);
    CHECK(r->steps[3].kind == BUILD_STEP_WORKDIR && strcmp(r->steps[3].workdir, "/base/app") == 0);
  }
  build_plan_free(p);

  /* ENTRYPOINT drops an inherited CMD, not one set in the stage; JSON [] clears */
  build_stage_result_free(r);
  r = NULL;
  p = plan_of("FROM base\nENTRYPOINT [\"/bin/app\"]\n", NULL, &err);
  CHECK(p && build_stage_resolve(p, 0, &base, &r, &err) == 0);
  if (r) {
    CHECK(r->config.cmd == NULL);
    CHECK(strv_eq(r->config.entrypoint, (const char *[]){"/bin/app", NULL}));
  }
  build_plan_free(p);
  build_stage_result_free(r);
  r = NULL;
  p = plan_of("FROM base\nCMD [\"x\"]\nENTRYPOINT []\nHEALTHCHECK NONE\n", NULL, &err);
  CHECK(p && build_stage_resolve(p, 0, &base, &r, &err) == 0);
  if (r) {
    CHECK(strv_eq(r->config.cmd, (const char *[]){"x", NULL}));
    CHECK(r->config.entrypoint == NULL);
    CHECK(strv_eq(r->config.health.test, (const char *[]){"NONE", NULL}));
  }
  build_plan_free(p);
}

static void run_steps(void) {
  const char *text = "FROM base\n"
                     "WORKDIR /src\n"
                     "USER builder\n"
                     "RUN --mount=type=cache,target=.cache,sharing=locked --mount=type=secret,id=tok "
                     "--mount=type=tmpfs,target=/tmp,size=64m --network=none [\"make\", \"-j2\"]\n"
                     "RUN <<EOF\n"
                     "set -e\n"
                     "echo hi\n"
                     "EOF\n"
                     "RUN <<EOF\n"
                     "#!/usr/bin/env python3\n"
                     "print(1)\n"
                     "EOF\n"
                     "RUN cat <<A && cat <<-B\n"
                     "one\n"
                     "A\n"
                     "\ttwo\n"
                     "\tB\n";
  _cleanup_error_ struct stack_error *err = NULL;
  struct build_plan *p = plan_of(text, NULL, &err);
  CHECK_MSG(p != NULL, "%s", err ? err->msg : "");
  if (!p)
    return;
  _cleanup_(build_stage_result_freep) struct build_stage_result *r = NULL;
  CHECK_MSG(build_stage_resolve(p, 0, NULL, &r, &err) == 0, "%s", err ? err->msg : "");
  if (r && r->n_steps == 6) {
    const struct build_step *s = &r->steps[2];
    CHECK(strv_eq(s->argv, (const char *[]){"make", "-j2", NULL}));
    CHECK_STREQ(s->network, "none");
    CHECK_STREQ(s->user, "builder");
    CHECK_STREQ(s->workdir, "/src");
    CHECK_INTEQ(s->n_mounts, 3);
    CHECK(s->mounts[0].type == BUILD_MOUNT_CACHE);
    CHECK_STREQ(s->mounts[0].target, "/src/.cache");
    CHECK_STREQ(s->mounts[0].id, "/src/.cache");
    CHECK(s->mounts[0].sharing == BUILD_SHARING_LOCKED && !s->mounts[0].readonly);
    CHECK(s->mounts[1].type == BUILD_MOUNT_SECRET);
    CHECK_STREQ(s->mounts[1].target, "/run/secrets/tok");
    CHECK(s->mounts[2].type == BUILD_MOUNT_TMPFS && s->mounts[2].size == 64 << 20);
    CHECK(strv_eq(r->steps[3].argv, (const char *[]){"/bin/sh", "-c", "set -e\necho hi\n", NULL}));
    CHECK(strv_eq(r->steps[4].argv, (const char *[]){"/dev/pipes/EOF", NULL}));
    CHECK(r->steps[4].n_files == 1 && strncmp(r->steps[4].files[0].data, "#!", 2) == 0);
    CHECK(strv_eq(r->steps[5].argv,
                  (const char *[]){"/bin/sh", "-c", "cat <<A && cat <<-B\none\nA\n\ttwo\nB", NULL}));
  } else {
    CHECK_MSG(0, "expected 6 steps");
  }
  build_plan_free(p);
}

static void onbuild(void) {
  _cleanup_error_ struct stack_error *err = NULL;
  struct build_plan *p = plan_of("FROM base\nONBUILD RUN echo built\nONBUILD COPY <<EOF /f\nx\nEOF\n"
                                 "ONBUILD ENV T=$HOME\n",
                                 NULL, &err);
  CHECK_MSG(p != NULL, "%s", err ? err->msg : "");
  if (!p)
    return;
  _cleanup_(build_stage_result_freep) struct build_stage_result *r = NULL;
  CHECK(build_stage_resolve(p, 0, NULL, &r, &err) == 0);
  if (!r) {
    build_plan_free(p);
    return;
  }
  /* stored, not run */
  CHECK(strv_eq(r->config.onbuild, (const char *[]){"RUN echo built", "COPY <<EOF /f\nx\nEOF", "ENV T=$HOME", NULL}));
  CHECK_INTEQ(r->n_steps, 3);
  CHECK(r->steps[0].kind == BUILD_STEP_CONFIG);
  build_plan_free(p);

  /* a stage FROM that image runs them first, and does not pass them on */
  char *env[] = {"HOME=/root", NULL};
  r->config.env = xcalloc(2, sizeof(char *));
  r->config.env[0] = xstrdup(env[0]);
  p = plan_of("FROM child\nRUN echo mine\n", NULL, &err);
  _cleanup_(build_stage_result_freep) struct build_stage_result *r2 = NULL;
  CHECK_MSG(p && build_stage_resolve(p, 0, &r->config, &r2, &err) == 0, "%s", err ? err->msg : "");
  if (r2) {
    CHECK_INTEQ(r2->n_steps, 4);
    CHECK(r2->steps[0].onbuild && r2->steps[0].kind == BUILD_STEP_RUN);
    CHECK(strv_eq(r2->steps[0].argv, (const char *[]){"/bin/sh", "-c", "echo built", NULL}));
    CHECK(r2->steps[1].kind == BUILD_STEP_COPY && r2->steps[1].n_contents == 1);
    CHECK_STREQ(r2->steps[1].contents[0].data, "x\n");
    CHECK_STREQ(env_of(r2->config.env, "T"), "/root");
    CHECK(!r2->steps[3].onbuild);
    CHECK(r2->config.onbuild == NULL);
    CHECK_INTEQ(r2->steps[0].line, 1);
  }
  build_plan_free(p);

  /* a bad trigger names the FROM line */
  char *bad[] = {"FROB x", NULL};
  struct build_config bc = {.onbuild = bad};
  p = plan_of("FROM x\n", NULL, &err);
  build_stage_result_free(r2);
  r2 = NULL;
  CHECK(p && build_stage_resolve(p, 0, &bc, &r2, &err) < 0);
  CHECK_MSG(err && strstr(err->msg, "Dockerfile:1: FROM") && strstr(err->msg, "unknown instruction: FROB"), "%s",
            err ? err->msg : "");
  build_plan_free(p);
  char *chained[] = {"ONBUILD RUN x", NULL};
  struct dockerfile *df = NULL;
  CHECK(build_parse_onbuild(chained, &df, &err) < 0);
  CHECK(err && strstr(err->msg, "ONBUILD isn't allowed as an ONBUILD trigger"));
}

static void errors(void) {
  struct {
    const char *text, *msg;
    bool at_resolve;
  } cases[] = {
      {"RUN x\nFROM a\n", "Dockerfile:1: RUN: no build stage in current context", false},
      {"FROM a\nCOPY --chown=1 --form=x a b\n", "Dockerfile:2: COPY: unknown flag: --form", false},
      {"FROM a\nCOPY --link=maybe a b\n", "Dockerfile:2: COPY: expecting boolean value for flag --link", false},
      {"FROM a\nCOPY a\n", "Dockerfile:2: COPY: COPY requires at least two arguments", false},
      {"FROM a\nWORKDIR\n", "Dockerfile:2: WORKDIR: WORKDIR requires exactly one argument", false},
      {"FROM a AS 1x\n", "Dockerfile:1: FROM: invalid name for build stage", false},
      {"FROM a b\n", "Dockerfile:1: FROM: FROM requires either one or three arguments", false},
      {"FROM a AS x\nFROM b AS X\n", "Dockerfile:2: FROM: duplicate stage name \"x\"", false},
      {"ARG X\nFROM a\nCOPY --from=$X a b\n", "Dockerfile:3: COPY: variable expansion is not supported for --from", false},
      {"FROM a\nCOPY --from=3 a b\n", "Dockerfile:2: COPY: invalid stage index 3", false},
      {"FROM a\nHEALTHCHECK --interval=1 CMD x\n", "Dockerfile:2: HEALTHCHECK: time: missing unit", true},
      {"FROM a\nHEALTHCHECK --timeout=10us CMD x\n", "Dockerfile:2: HEALTHCHECK: Interval \"timeout\" cannot be less than 1ms", true},
      {"FROM a\nHEALTHCHECK --retries=-1 CMD x\n", "Dockerfile:2: HEALTHCHECK: --retries cannot be negative", true},
      {"FROM a\nHEALTHCHECK CONNECT x\n", "Dockerfile:2: HEALTHCHECK: Unknown type \"CONNECT\"", false},
      {"FROM a\nHEALTHCHECK NONE x\n", "Dockerfile:2: HEALTHCHECK: HEALTHCHECK NONE takes no arguments", false},
      {"FROM a\nSHELL /bin/bash -c\n", "Dockerfile:2: SHELL: SHELL requires the arguments to be in JSON form", false},
      {"FROM a\nONBUILD ONBUILD RUN x\n", "Dockerfile:2: ONBUILD: Chaining ONBUILD", false},
      {"FROM a\nONBUILD FROM x\n", "Dockerfile:2: ONBUILD: FROM isn't allowed as an ONBUILD trigger", false},
      {"FROM a\nRUN --mount=type=nfs,target=/x true\n", "Dockerfile:2: RUN: unsupported mount type \"nfs\"", true},
      {"FROM a\nRUN --mount=type=cache true\n", "Dockerfile:2: RUN: mount 'type=cache' needs a target", true},
      {"FROM a\nRUN --mount=type=cache,target=/c,uid=$NOPE true\n", "Dockerfile:2: RUN: invalid uid \"\": a number", true},
      {"FROM a\nRUN --mount=type=bind,target=/c,\\\"from=x true\n", "Dockerfile:2: RUN: extraneous or missing \"", false},
      {"FROM a\nRUN --network=bridge true\n", "Dockerfile:2: RUN: unsupported network mode \"bridge\"", false},
      {"FROM a\nEXPOSE 80/ftp\n", "Dockerfile:2: EXPOSE: invalid proto: ftp", true},
      {"FROM a\nEXPOSE 9-8\n", "Dockerfile:2: EXPOSE: invalid containerPort: 9-8", true},
      {"FROM a\nSTOPSIGNAL SIGNOPE\n", "Dockerfile:2: STOPSIGNAL: invalid signal: SIGNOPE", true},
      {"FROM a\nUSER ${U:?set U}\n", "Dockerfile:2: USER: failed to process \"${U:?set U}\": U: set U", true},
      {"FROM a\nVOLUME [\"\"]\n", "Dockerfile:2: VOLUME: VOLUME specified can not be an empty string", true},
      {"FROM a\nCOPY a <<EOF\nx\nEOF\n", "Dockerfile:2: COPY: COPY cannot accept a heredoc as a destination", true},
      {"FROM a\nENV =x\n", "Dockerfile:2: ENV: ENV names can not be blank", false},
      {"FROM a\nCMD [\"a\\u0000b\"]\n", "Dockerfile:2: CMD: argument 1 holds a NUL character", true},
      {"ARG A=${B:?needed}\nFROM a\n", "Dockerfile:1: ARG: failed to process", false},
      {"FROM ${NOTHING}\n", "Dockerfile:1: FROM: base name (${NOTHING}) should not be blank", false},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    _cleanup_error_ struct stack_error *err = NULL;
    struct build_plan *p = plan_of(cases[i].text, NULL, &err);
    if (cases[i].at_resolve) {
      CHECK_MSG(p != NULL, "case %zu: %s", i, err ? err->msg : "");
      struct build_stage_result *r = NULL;
      CHECK_MSG(p && build_stage_resolve(p, p->n_stages - 1, NULL, &r, &err) < 0, "case %zu resolved", i);
      build_stage_result_free(r);
      build_plan_free(p);
    } else {
      CHECK_MSG(p == NULL, "case %zu planned", i);
      build_plan_free(p);
    }
    CHECK_MSG(err && strncmp(err->msg, cases[i].msg, strlen(cases[i].msg)) == 0, "case %zu: got %s\nexpected %s",
              i, err ? err->msg : "(none)", cases[i].msg);
  }
}

static void durations(void) {
  struct {
    const char *s;
    long long ns;
  } ok[] = {{"0", 0}, {"5s", 5000000000LL}, {"1m30s", 90000000000LL}, {"1.5h", 5400000000000LL},
            {"250ms", 250000000LL}, {"10us", 10000LL}, {"3ns", 3}, {"2h45m0.5s", 9900500000000LL}};
  for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    int64_t ns = -1;
    CHECK_MSG(build_parse_duration(ok[i].s, &ns, NULL) == 0 && ns == ok[i].ns, "%s -> %lld", ok[i].s, (long long)ns);
  }
  const char *bad[] = {"", "5", "s", "5x", "1.s5", "-", ".s"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    int64_t ns;
    _cleanup_error_ struct stack_error *err = NULL;
    CHECK_MSG(build_parse_duration(bad[i], &ns, &err) < 0, "%s parsed", bad[i]);
  }
}

static void copy_add_flags(void) {
  const char *text = "FROM base\n"
                     "ARG OWNER=app\n"
                     "WORKDIR /srv\n"
                     "COPY --chown=${OWNER}:${OWNER} --chmod=0644 --link --exclude=*.md --exclude=tmp "
                     "[\"src/\", \"$OWNER.conf\", \".\"]\n"
                     "ADD --checksum=sha256:abc --keep-git-dir=true --unpack=false "
                     "https://example.com/x.tar.gz /opt/\n"
                     "ADD --link=false local.tar ./\n";
  _cleanup_error_ struct stack_error *err = NULL;
  _cleanup_(build_plan_freep) struct build_plan *p = plan_of(text, NULL, &err);
  CHECK_MSG(p != NULL, "%s", err ? err->msg : "");
  if (!p)
    return;
  _cleanup_(build_stage_result_freep) struct build_stage_result *r = NULL;
  CHECK_MSG(build_stage_resolve(p, 0, NULL, &r, &err) == 0, "%s", err ? err->msg : "");
  if (!r || r->n_steps != 5)
    return;
  const struct build_step *c = &r->steps[2], *a = &r->steps[3], *l = &r->steps[4];
  CHECK(c->kind == BUILD_STEP_COPY);
  CHECK(strv_eq(c->sources, (const char *[]){"src/", "app.conf", NULL}));
  CHECK_STREQ(c->dest, "/srv/");
  CHECK_STREQ(c->chown, "app:app");
  CHECK_STREQ(c->chmod, "0644");
  CHECK(c->link);
  CHECK(strv_eq(c->excludes, (const char *[]){"*.md", "tmp", NULL}));
  CHECK(c->from == NULL && c->from_stage == -1);
  CHECK(a->kind == BUILD_STEP_ADD);
  CHECK(strv_eq(a->sources, (const char *[]){"https://example.com/x.tar.gz", NULL}));
  CHECK_STREQ(a->dest, "/opt/");
  CHECK_STREQ(a->checksum, "sha256:abc");
  CHECK(a->keep_git_dir && a->unpack == 0 && !a->link);
  CHECK(l->unpack == -1 && !l->link);
  CHECK_STREQ(l->dest, "/srv/");
}

int main(void) {
  copy_add_flags();
  stages();
  arg_scoping();
  image_config();
  run_steps();
  onbuild();
  errors();
  durations();
  TEST_DONE();
}
