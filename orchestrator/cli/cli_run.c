/* `stack run [OPTIONS] IMAGE [COMMAND] [ARG...]` (as `docker run` / Apple's
 * `container run`): pull if needed, boot the image in its own VM, run the
 * command, stream its output and exit with its exit code (128+signal for a
 * signal).  Ctrl-C and other signals are forwarded; -t gives a raw terminal
 * whose window size follows the host's. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <uv.h>

#include "cli.h"
#include "cli_compose_run.h"
#include "cli_run_net.h"
#include "runtime/image/image.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/paths.h"
#include "runtime/util/xalloc.h"
#include "orchestrator/supervisor/naming.h"
#include "orchestrator/supervisor/service_resources.h"
#include "runtime/vm/caps.h"
#include "runtime/vm/container.h"
#include "runtime/vm/template.h"
#include "runtime/vm/rlimits.h"

static void run_usage(FILE *f) {
  fputs("Usage:  stack run [OPTIONS] IMAGE [COMMAND] [ARG...]\n"
        "\n"
        "Create and run a new container from an image, in its own virtual machine\n"
        "\n"
        "Options:\n"
        "      --add-host list        Add a custom host-to-IP mapping (host:ip, or host:host-gateway)\n"
        "      --cap-add list         Add Linux capabilities\n"
        "      --cap-drop list        Drop Linux capabilities\n"
        "      --cpus number          Number of CPUs\n"
        "      --dns list             Set custom DNS servers\n"
        "      --dns-option list      Set DNS options\n"
        "      --dns-search list      Set custom DNS search domains\n"
        "      --entrypoint string    Overwrite the default ENTRYPOINT of the image\n"
        "  -e, --env list             Set environment variables (K=V, or K to copy the host's)\n"
        "      --env-file list        Read in a file of environment variables\n"
        "      --domainname string    Container NIS domain name\n"
        "      --hostname string      Container host name\n"
        "  -i, --interactive          Keep STDIN open\n"
        "      --kernel string        Guest kernel (vmlinux) to boot\n"
        "  -m, --memory bytes         Memory limit (e.g. 512m, 2g)\n"
        "      --name string          Assign a name to the container\n"
        "      --network string       Connect a container to a network: \"bridge\" (the default "
        "network:\n"
        "                             an address, NAT out, the host's DNS servers) or \"none\"\n"
        "  -p, --publish list         Publish a container's port(s) to the host\n"
        "                             ([IP:][HOST_PORT:]CONTAINER_PORT[/tcp|udp])\n"
        "  -P, --publish-all          Publish all exposed ports to random ports\n"
        "      --pids-limit int       Tune container pids limit (set -1 for unlimited)\n"
        "      --platform string      Set platform if server is multi-platform capable\n"
        "      --privileged           Give extended privileges (every capability)\n"
        "      --pull string          Pull image before running (\"always\", \"missing\", "
        "\"never\")\n"
        "      --rm                   Automatically remove the container when it exits\n"
        "      --security-opt list    Security Options (no-new-privileges[:true|false])\n"
        "  -t, --tty                  Allocate a pseudo-TTY\n"
        "      --ulimit ulimit        Ulimit options (NAME=SOFT[:HARD], e.g. nofile=1024:2048)\n"
        "  -u, --user string          Username or UID (format: <name|uid>[:<group|gid>])\n"
        "  -w, --workdir string       Working directory inside the container\n",
        f);
}

struct run_state {
  uv_loop_t loop;
  struct container *c;
  uv_signal_t sigs[5];
  int nsigs;
  uv_signal_t winch;
  bool have_winch;
  uv_tty_t tty_in, tty_out;
  uv_pipe_t pipe_in;
  uv_stream_t *in; /* the stdin handle being read, or NULL */
  bool raw;
  bool closed[3]; /* stdout/stderr whose reader is gone */
  bool done;
  int exit_code;
  char *error;
  /* signals asking to end (SIGTERM, SIGHUP, SIGQUIT) are forwarded; a
   * second one, GIVE_UP_AFTER_MS after the first, or one while the VM is
   * paused (it cannot act on it), and the VM is stopped here */
  int ends;
  uv_timer_t give_up;
  bool give_up_inited;
  bool paused;
  bool gave_up;
};

#define GIVE_UP_AFTER_MS 10000

static void push(char ***v, size_t *n, const char *s) {
  *v = xrealloc(*v, (*n + 2) * sizeof **v);
  (*v)[(*n)++] = xstrdup(s);
  (*v)[*n] = NULL;
}

/* -e K=V, or -e K: the host's value if set (as Docker). */
static void env_add(char ***v, size_t *n, const char *kv) {
  if (strchr(kv, '=')) {
    push(v, n, kv);
    return;
  }
  const char *val = getenv(kv);
  if (val) {
    _cleanup_free_ char *s = xasprintf("%s=%s", kv, val);
    push(v, n, s);
  }
}

static int env_file(const char *path, char ***v, size_t *n) {
  _cleanup_fclose_ FILE *f = fopen(path, "re");
  if (f == NULL) {
    fprintf(stderr, "stack run: --env-file %s: %s\n", path, strerror(errno));
    return -errno;
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  int lineno = 0;
  while ((len = getline(&line, &cap, f)) >= 0) {
    lineno++;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
      line[--len] = 0;
    const char *s = line + strspn(line, " \t");
    if (!*s || *s == '#')
      continue;
    if (*s == '=') {
      fprintf(stderr, "stack run: %s:%d: variable name is empty\n", path, lineno);
      free(line);
      return -EINVAL;
    }
    env_add(v, n, s);
  }
  free(line);
  return 0;
}

/* "512m", "1g", "1073741824" (bytes) -> MiB. */
static int parse_memory(const char *s, uint64_t *mib) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || v <= 0)
    return -EINVAL;
  double mult = 1.0 / (1024 * 1024);
  switch (*end) {
  case 'b': case 'B': end++; break;
  case 'k': case 'K': mult = 1.0 / 1024; end++; break;
  case 'm': case 'M': mult = 1; end++; break;
  case 'g': case 'G': mult = 1024; end++; break;
  case 0: break;
  default: return -EINVAL;
  }
  if (*end == 'b' || *end == 'B')
    end++;
  if (*end)
    return -EINVAL;
  double m = v * mult;
  if (m < 64 || m > 1024.0 * 1024)
    return -ERANGE;
  *mib = (uint64_t)m;
  return 0;
}

/* --ulimit NAME=SOFT[:HARD] as Docker has it. */
static int parse_ulimit(const char *s, struct proto_rlimit *out) {
  const char *eq = strchr(s, '=');
  if (eq == NULL)
    return -EINVAL;
  int res = rlimit_from_name(s, (size_t)(eq - s));
  if (res < 0)
    return -EINVAL;
  char *end;
  errno = 0;
  long long soft = strtoll(eq + 1, &end, 10), hard = soft;
  if (errno || end == eq + 1 || (*end && *end != ':'))
    return -EINVAL;
  if (*end == ':') {
    const char *h = end + 1;
    hard = strtoll(h, &end, 10);
    if (errno || end == h || *end)
      return -EINVAL;
  }
  return rlimit_set(res, soft, hard, out);
}

/* Returns -EPIPE when the reader went away. */
static int write_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static void on_output(void *data, int fd, const uint8_t *p, size_t n) {
  struct run_state *rs = data;
  int out = fd == 2 ? 2 : 1;
  if (rs->closed[out])
    return;
  if (write_all(out, p, n) == -EPIPE) {
    /* as if the process wrote to the closed pipe itself: `stack run IMAGE
     * yes | head -1` ends the way `yes | head -1` does */
    rs->closed[out] = true;
    container_signal(rs->c, SIGPIPE);
  }
}

static void on_exited(void *data, const struct container_status *st) {
  struct run_state *rs = data;
  rs->done = true;
  rs->exit_code = st->exit_code;
  if (st->error)
    rs->error = xstrdup(st->error);
  uv_stop(&rs->loop);
}

static void stop_stdin(struct run_state *rs) {
  if (rs->in) {
    uv_read_stop(rs->in);
    rs->in = NULL;
  }
}

static void on_stdin_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)h;
  (void)suggested;
  buf->base = xmalloc(32768);
  buf->len = 32768;
}

static void on_stdin(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  struct run_state *rs = s->data;
  if (n > 0) {
    container_write_stdin(rs->c, buf->base, (size_t)n);
  } else if (n < 0) {
    container_write_stdin(rs->c, NULL, 0);
    stop_stdin(rs);
  }
  free(buf->base);
}

static const char *sig_name(int sig) {
  const char *n = sigabbrev_np(sig);
  return n ? n : "a signal";
}

/* Stops waiting for the process: the VM goes with us (container_free()). */
static void give_up(struct run_state *rs, int signum, const char *why) {
  if (rs->gave_up || rs->done)
    return;
  rs->gave_up = true;
  if (rs->raw)
    uv_tty_reset_mode();
  fprintf(stderr, "%sstack: %s: stopping the container's VM\n", rs->raw ? "\r\n" : "", why);
  rs->exit_code = 128 + signum;
  uv_stop(&rs->loop);
}

static void on_give_up_timer(uv_timer_t *t) {
  struct run_state *rs = t->data;
  char why[128];
  snprintf(why, sizeof why, "the process did not end within %d s of SIG%s",
           GIVE_UP_AFTER_MS / 1000, sig_name(rs->ends));
  give_up(rs, rs->ends, why);
}

static void on_signal(uv_signal_t *h, int signum) {
  struct run_state *rs = h->data;
  container_signal(rs->c, signum);
  bool ends = signum == SIGTERM || signum == SIGHUP || signum == SIGQUIT;
  char why[256];
  if (rs->paused && (ends || signum == SIGINT)) {
    snprintf(why, sizeof why, "SIG%s, and the VM is paused (it cannot act on it)",
             sig_name(signum));
    give_up(rs, signum, why);
  } else if (ends && rs->ends) {
    snprintf(why, sizeof why, "SIG%s again", sig_name(signum));
    give_up(rs, signum, why);
  } else if (ends) {
    rs->ends = signum;
    if (!rs->give_up_inited) {
      uv_timer_init(&rs->loop, &rs->give_up);
      rs->give_up.data = rs;
      rs->give_up_inited = true;
    }
    uv_timer_start(&rs->give_up, on_give_up_timer, GIVE_UP_AFTER_MS, 0);
  }
}

/* A VM that QEMU paused on a full disk is said, and so is its resume; a
 * signal then ends the run (on_signal()). */
static void on_vm_state(void *data, const struct container_vm_state *st) {
  struct run_state *rs = data;
  rs->paused = st->paused;
  const char *nl = rs->raw ? "\r\n" : "";
  if (st->paused && st->nospace)
    fprintf(stderr,
            "%sstack: the VM is paused: its disk %s is full (%s); free space on %s: it resumes "
            "by itself once there is room (a signal stops it)\n",
            nl, st->disk, st->reason, st->fs ? st->fs : st->disk);
  else if (st->paused && st->disk)
    fprintf(stderr, "%sstack: the VM is paused: a write to its disk %s failed (%s)\n", nl,
            st->disk, st->reason);
  else if (!st->paused && !st->by_request)
    fprintf(stderr, "%sstack: the VM resumed\n", nl);
}

static void on_winch(uv_signal_t *h, int signum) {
  (void)signum;
  struct run_state *rs = h->data;
  int cols, rows;
  if (uv_tty_get_winsize(&rs->tty_out, &cols, &rows) == 0)
    container_resize(rs->c, (unsigned)rows, (unsigned)cols);
}

/* Stdin from a file: epoll cannot watch regular files, and a file is
 * finite, so it is sent at once. */
static void send_file_stdin(struct run_state *rs) {
  uint8_t buf[32768];
  ssize_t n;
  while ((n = read(0, buf, sizeof buf)) > 0)
    container_write_stdin(rs->c, buf, (size_t)n);
  container_write_stdin(rs->c, NULL, 0);
}

static int setup_stdin(struct run_state *rs, bool tty) {
  uv_handle_type t = uv_guess_handle(0);
  int r = 0;
  if (t == UV_TTY) {
    if ((r = uv_tty_init(&rs->loop, &rs->tty_in, 0, 1)) < 0)
      return r;
    rs->in = (uv_stream_t *)&rs->tty_in;
    if (tty) {
      if ((r = uv_tty_set_mode(&rs->tty_in, UV_TTY_MODE_RAW)) < 0)
        return r;
      rs->raw = true;
    }
  } else if (t == UV_NAMED_PIPE || t == UV_TCP) {
    if ((r = uv_pipe_init(&rs->loop, &rs->pipe_in, 0)) < 0 ||
        (r = uv_pipe_open(&rs->pipe_in, 0)) < 0)
      return r;
    rs->in = (uv_stream_t *)&rs->pipe_in;
  } else {
    send_file_stdin(rs);
    return 0;
  }
  rs->in->data = rs;
  return uv_read_start(rs->in, on_stdin_alloc, on_stdin);
}

static void print_times(const struct container_times *t) {
  /* STACK_TIMING=1: where the time of a run went (bench/bench_run.sh) */
#define MS(a, b) ((a) && (b) ? ((double)(a) - (double)(b)) / 1e6 : -1.0)
  fprintf(stderr,
          "stack: timing: prepare %.1f ms, boot to hello %.1f ms, configure %.1f ms, start "
          "%.1f ms, run %.1f ms, power-off %.1f ms, total %.1f ms (process started at %.1f "
          "ms, %s)\n",
          MS(t->vm_spawned, t->start), MS(t->hello, t->vm_spawned), MS(t->configured, t->hello),
          MS(t->started, t->configured), MS(t->exited, t->started), MS(t->vm_exited, t->exited),
          MS(t->vm_exited, t->start), MS(t->started, t->start),
          t->cloned ? "restored from a template" : "cold boot");
#undef MS
}

static void close_cb(uv_handle_t *h) { (void)h; }

int cli_run(struct cli_globals *g, int argc, char **argv) {
  /* `run SERVICE` when a Compose project is in effect (docs/user-guide.md);
   * `run IMAGE` otherwise */
  int compose = cli_compose_run_wanted(g, argc, argv);
  if (compose == -2)
    return 1; /* no such service: Compose's exit code */
  if (compose < 0)
    return CONTAINER_EXIT_FAILED;
  if (compose > 0)
    return cli_compose_run(g, argc, argv);
  return cli_run_image(g, argc, argv);
}

int cli_container(struct cli_globals *g, int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "run") == 0)
    return cli_run_image(g, argc - 1, argv + 1);
  FILE *f = argc >= 2 && strcmp(argv[1], "--help") != 0 && strcmp(argv[1], "-h") != 0 ? stderr
                                                                                        : stdout;
  if (f == stderr && argc >= 2)
    fprintf(stderr, "stack container: unknown command \"%s\"\n", argv[1]);
  fputs("Usage:  stack container COMMAND\n\nManage containers\n\nCommands:\n"
        "  run         Create and run a new container from an image (`stack run IMAGE`, also\n"
        "              where a Compose file applies)\n",
        f);
  return f == stderr ? 1 : 0;
}

int cli_run_image(struct cli_globals *g, int argc, char **argv) {
  (void)g;
  static const struct option opts[] = {
      {"rm", no_argument, NULL, 'R'},
      {"interactive", no_argument, NULL, 'i'},
      {"tty", no_argument, NULL, 't'},
      {"env", required_argument, NULL, 'e'},
      {"env-file", required_argument, NULL, 'F'},
      {"user", required_argument, NULL, 'u'},
      {"workdir", required_argument, NULL, 'w'},
      {"entrypoint", required_argument, NULL, 'E'},
      {"memory", required_argument, NULL, 'm'},
      {"cpus", required_argument, NULL, 'C'},
      {"name", required_argument, NULL, 'N'},
      {"hostname", required_argument, NULL, 'H'},
      {"domainname", required_argument, NULL, 'O'},
      {"kernel", required_argument, NULL, 'K'},
      {"platform", required_argument, NULL, 'T'},
      {"network", required_argument, NULL, 'W'},
      {"net", required_argument, NULL, 'W'},
      {"publish", required_argument, NULL, 'p'},
      {"publish-all", no_argument, NULL, 'P'},
      {"dns", required_argument, NULL, 'd'},
      {"dns-search", required_argument, NULL, 'a'},
      {"dns-option", required_argument, NULL, 'o'},
      {"dns-opt", required_argument, NULL, 'o'},
      {"add-host", required_argument, NULL, 'X'},
      {"pull", required_argument, NULL, 'L'},
      {"ulimit", required_argument, NULL, 'U'},
      {"cap-add", required_argument, NULL, 'A'},
      {"cap-drop", required_argument, NULL, 'D'},
      {"privileged", no_argument, NULL, 'V'},
      {"pids-limit", required_argument, NULL, 'I'},
      {"security-opt", required_argument, NULL, 'S'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  _cleanup_strv_ char **cap_add = NULL, **cap_drop = NULL, **security_opt = NULL;
  size_t ncap_add = 0, ncap_drop = 0, nsecurity_opt = 0;
  bool privileged = false;
  /* nothing adopts a standalone run's VM: it ends with this process */
  struct container_opts co = {.bound_to_host = true};
  struct proto_rlimit rlimits[PROTO_MAX_RLIMITS];
  _cleanup_strv_ char **env = NULL, **entrypoint = NULL;
  size_t nenv = 0;
  const char *platform = getenv("DOCKER_DEFAULT_PLATFORM");
  if (platform && !*platform)
    platform = NULL;
  struct image_get_opts gopts = {.pull = IMAGE_PULL_MISSING};
  optind = 1;
  opterr = 0;
  int ch;
  _cleanup_strv_ char **publish = NULL, **dns = NULL, **dns_search = NULL, **dns_option = NULL,
                      **add_host = NULL;
  size_t npublish = 0, ndns = 0, ndns_search = 0, ndns_option = 0, nadd_host = 0;
  struct cli_run_net_opts netopts = {0};
  while ((ch = getopt_long(argc, argv, "+ite:u:w:m:hp:P", opts, NULL)) != -1) {
    switch (ch) {
    case 'R': co.remove = true; break;
    case 'i': co.interactive = true; break;
    case 't': co.tty = true; break;
    case 'e': env_add(&env, &nenv, optarg); break;
    case 'F':
      if (env_file(optarg, &env, &nenv) < 0)
        return CONTAINER_EXIT_FAILED;
      break;
    case 'u': co.user = optarg; break;
    case 'w': co.workdir = optarg; break;
    case 'E': {
      strv_free(entrypoint);
      size_t n = 0;
      entrypoint = xcalloc(1, sizeof *entrypoint);
      if (*optarg)
        push(&entrypoint, &n, optarg);
      break;
    }
    case 'm':
      if (parse_memory(optarg, &co.mem_mib) < 0) {
        fprintf(stderr, "stack run: invalid --memory %s: give a size of at least 64m, e.g. "
                        "512m or 2g\n", optarg);
        return CONTAINER_EXIT_FAILED;
      }
      break;
    case 'C': {
      char *end;
      double v = strtod(optarg, &end);
      if (*end || v <= 0 || v > 256) {
        fprintf(stderr, "stack run: invalid --cpus %s: give a number from 1 to 256\n", optarg);
        return CONTAINER_EXIT_FAILED;
      }
      co.cpus = v < 1 ? 1 : (unsigned)(v + 0.999); /* a VM has whole CPUs */
      break;
    }
    case 'N': {
      _cleanup_error_ struct stack_error *e = NULL;
      if (naming_check("container", optarg, &e) < 0) {
        fprintf(stderr, "stack run: --name: %s\n", e->msg);
        return CONTAINER_EXIT_FAILED;
      }
      co.name = optarg;
      break;
    }
    case 'H': co.hostname = optarg; break;
    case 'O': co.domainname = optarg; break;
    case 'K': co.kernel = optarg; break;
    case 'T': platform = optarg; break;
    case 'W': netopts.network = optarg; break;
    case 'p': push(&publish, &npublish, optarg); break;
    case 'P': netopts.publish_all = true; break;
    case 'd': push(&dns, &ndns, optarg); break;
    case 'a': push(&dns_search, &ndns_search, optarg); break;
    case 'o': push(&dns_option, &ndns_option, optarg); break;
    case 'X': push(&add_host, &nadd_host, optarg); break;
    case 'L':
      if (strcmp(optarg, "always") == 0)
        gopts.pull = IMAGE_PULL_ALWAYS;
      else if (strcmp(optarg, "missing") == 0)
        gopts.pull = IMAGE_PULL_MISSING;
      else if (strcmp(optarg, "never") == 0)
        gopts.pull = IMAGE_PULL_NEVER;
      else {
        fprintf(stderr, "stack run: invalid --pull %s: use always, missing or never\n", optarg);
        return CONTAINER_EXIT_FAILED;
      }
      break;
    case 'U':
      if (co.n_rlimits == PROTO_MAX_RLIMITS || parse_ulimit(optarg, &rlimits[co.n_rlimits]) < 0) {
        fprintf(stderr, "stack run: invalid --ulimit %s: give NAME=SOFT[:HARD] with NAME one of "
                        "core cpu data fsize locks memlock msgqueue nice nofile nproc rss rtprio "
                        "rttime sigpending stack as (-1 = unlimited)\n", optarg);
        return CONTAINER_EXIT_FAILED;
      }
      co.rlimits = rlimits;
      co.n_rlimits++;
      break;
    case 'A': push(&cap_add, &ncap_add, optarg); break;
    case 'D': push(&cap_drop, &ncap_drop, optarg); break;
    case 'V': privileged = true; break;
    case 'S':
      if (!sup_security_opt_honoured(optarg))
        fprintf(stderr, "WARN: --security-opt %s not supported by stack's VM runtime yet: "
                        "ignored\n", optarg);
      push(&security_opt, &nsecurity_opt, optarg);
      break;
    case 'I': {
      char *end = NULL;
      errno = 0;
      long long n = strtoll(optarg, &end, 10);
      if (errno || end == optarg || *end || n < -1) {
        fprintf(stderr, "stack run: invalid --pids-limit %s: give a number (-1 or 0: no limit)\n",
                optarg);
        return CONTAINER_EXIT_FAILED;
      }
      co.pids_max = n > 0 ? (uint64_t)n : 0;
      break;
    }
    case 'h': run_usage(stdout); return 0;
    default:
      fprintf(stderr, "stack run: unknown option %s\n", argv[optind - 1]);
      run_usage(stderr);
      return CONTAINER_EXIT_FAILED;
    }
  }
  if (optind >= argc) {
    fprintf(stderr, "stack run: requires at least 1 argument: the image\n");
    run_usage(stderr);
    return CONTAINER_EXIT_FAILED;
  }
  const char *ref = argv[optind];
  {
    _cleanup_error_ struct stack_error *cerr = NULL;
    co.limit_caps = true;
    co.no_new_privs = sup_security_opt_no_new_privs(security_opt);
    if (caps_compute(privileged, cap_add, cap_drop, &co.caps, &cerr) < 0) {
      fprintf(stderr, "stack run: %s\n", cerr->msg);
      return CONTAINER_EXIT_FAILED;
    }
  }
  netopts.publish = publish;
  netopts.dns = dns;
  netopts.dns_search = dns_search;
  netopts.dns_option = dns_option;
  netopts.add_host = add_host;
  {
    _cleanup_error_ struct stack_error *nerr = NULL;
    if (cli_run_net_check(&netopts, &nerr) < 0) {
      fprintf(stderr, "stack run: %s\n", nerr->msg);
      return CONTAINER_EXIT_FAILED;
    }
  }
  co.entrypoint = entrypoint;
  co.cmd = optind + 1 < argc ? argv + optind + 1 : NULL;
  co.env = env;
  gopts.platform = platform;

  _cleanup_error_ struct stack_error *err = NULL;
  _cleanup_free_ char *root = stack_data_root();
  struct image_handle *img = NULL;
  if (image_get(root, ref, &gopts, &img, &err) < 0) {
    stack_error_print(err);
    return CONTAINER_EXIT_FAILED;
  }

  struct run_state rs = {0};
  rs.exit_code = CONTAINER_EXIT_FAILED;
  /* a closed stdout must not kill stack (and orphan the VM): see on_output */
  signal(SIGPIPE, SIG_IGN);
  uv_loop_init(&rs.loop);
  bool out_tty = co.tty && uv_guess_handle(1) == UV_TTY;
  if (out_tty && uv_tty_init(&rs.loop, &rs.tty_out, 1, 0) == 0) {
    int cols, rows;
    if (uv_tty_get_winsize(&rs.tty_out, &cols, &rows) == 0) {
      co.rows = (unsigned)rows;
      co.cols = (unsigned)cols;
    }
  } else {
    out_tty = false;
  }
  static const struct container_io io = {
      .output = on_output, .exited = on_exited, .vm_state = on_vm_state};
  co.templates = template_cache_new(&rs.loop);
  struct cli_run_net *net = NULL;
  int r = cli_run_net_setup(&rs.loop, &netopts, &img->config, &co, &net, &err);
  if (r == 0)
    r = container_start(&rs.loop, img, &co, &io, &rs, &rs.c, &err);
  if (r < 0) {
    stack_error_print(err);
  } else {
    /* while the VM starts on the other CPU: what a `stack run` killed with
     * SIGKILL left behind */
    container_gc();
    /* Ctrl-C reaches the process as SIGINT: through the pty with -t (raw
     * mode), as a forwarded signal without. */
    static const int fwd[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1};
    for (size_t i = 0; i < sizeof fwd / sizeof fwd[0]; i++) {
      uv_signal_init(&rs.loop, &rs.sigs[i]);
      rs.sigs[i].data = &rs;
      uv_signal_start(&rs.sigs[i], on_signal, fwd[i]);
      rs.nsigs++;
    }
    if (out_tty) {
      uv_signal_init(&rs.loop, &rs.winch);
      rs.winch.data = &rs;
      uv_signal_start(&rs.winch, on_winch, SIGWINCH);
      rs.have_winch = true;
    }
    if (co.interactive && (r = setup_stdin(&rs, co.tty)) < 0)
      fprintf(stderr, "stack run: stdin: %s\n", uv_strerror(r));
    uv_run(&rs.loop, UV_RUN_DEFAULT);
    if (rs.raw)
      uv_tty_reset_mode();
    if (rs.error)
      fprintf(stderr, "stack: %s\n", rs.error);
    if (getenv("STACK_TIMING"))
      print_times(container_times(rs.c));
    stop_stdin(&rs);
    container_free(rs.c);
  }
  /* the VM is gone: its ports, tap and address go too */
  cli_run_net_free(net);
  template_cache_free(co.templates);
  for (int i = 0; i < rs.nsigs; i++)
    uv_close((uv_handle_t *)&rs.sigs[i], close_cb);
  if (rs.give_up_inited)
    uv_close((uv_handle_t *)&rs.give_up, close_cb);
  if (rs.have_winch)
    uv_close((uv_handle_t *)&rs.winch, close_cb);
  if (uv_is_active((uv_handle_t *)&rs.tty_in) || rs.tty_in.type == UV_TTY)
    uv_close((uv_handle_t *)&rs.tty_in, close_cb);
  if (rs.pipe_in.type == UV_NAMED_PIPE)
    uv_close((uv_handle_t *)&rs.pipe_in, close_cb);
  if (out_tty)
    uv_close((uv_handle_t *)&rs.tty_out, close_cb);
  uv_run(&rs.loop, UV_RUN_DEFAULT);
  uv_loop_close(&rs.loop);
  image_handle_free(img);
  free(rs.error);
  return rs.exit_code;
}
