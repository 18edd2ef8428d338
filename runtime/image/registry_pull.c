/* registry_pull(): reference -> manifest (or index -> platform -> manifest)
 * -> config -> layers, every byte verified against its digest before it
 * enters the store; layers download in parallel over one curl multi handle
 * and resume with Range after an interruption.  Blobs are committed first and
 * the manifest and the index record last, so an interrupted or failed pull
 * never records an image whose content is missing. */
#include <curl/curl.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "runtime/image/blobstore.h"
#include "runtime/image/image.h"
#include "runtime/image/image_index.h"
#include "runtime/image/manifest.h"
#include "runtime/image/pull_progress.h"
#include "runtime/image/reference.h"
#include "runtime/image/registry.h"
#include "runtime/image/registry_http.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"

#define CONFIG_MAX_SIZE (32u << 20)
#define PARALLEL_DOWNLOADS 4
#define DOWNLOAD_ATTEMPTS 4

static void pull_progress_freep(struct pull_progress **p) { pull_progress_free(*p); }

/* A document fetched from the registry (or found in the store). */
struct fetched {
  char *body;
  size_t len;
  char *content_type;
  char *digest;
};

static void fetched_clear(struct fetched *f) {
  free(f->body);
  free(f->content_type);
  free(f->digest);
  *f = (struct fetched){0};
}

/* The registry session, opened on first use: a pull whose content is all in
 * the store already (a digest reference) needs no network at all. */
struct lazy_client {
  const struct image_ref *ref;
  const char *name;
  struct reg_client *c;
};

static int lazy_get(struct lazy_client *l, struct reg_client **out, struct stack_error **err) {
  if (l->c == NULL) {
    int r = reg_client_open(image_ref_api_host(l->ref), l->ref->path, "pull", &l->c, err);
    if (r < 0)
      return stack_error_prefix(err, "pulling %s", l->name);
  }
  *out = l->c;
  return 0;
}

static void lazy_clear(struct lazy_client *l) { reg_client_free(l->c); }

static int http_status_error(struct reg_client *c, long status, const char *what,
                             const char *name, struct stack_error **err) {
  if (status == 404)
    return stack_error_set(err, -ENOENT, "%s not found: %s does not have %s", name,
                           reg_client_host(c), what);
  if (status == 401 || status == 403)
    return stack_error_set(err, -EACCES,
                           "access to %s denied by %s (HTTP %ld): run `stack login %s` with an "
                           "account that may pull it",
                           name, reg_client_host(c), status, reg_client_host(c));
  if (status == 429)
    return stack_error_set(err, -EAGAIN, "%s: %s rate-limits this client (HTTP 429); try later",
                           name, reg_client_host(c));
  return stack_error_set(err, -EPROTO, "%s: %s answered HTTP %ld for %s", name, reg_client_host(c),
                         status, what);
}

/* GETs a manifest by tag or digest.  With a digest (expect != NULL) the
 * store is asked first and the answer must hash to it; by tag, the
 * registry's Docker-Content-Digest (if sent) must match what we hashed. */
static int fetch_manifest(struct lazy_client *lc, struct blobstore *bs, const char *name,
                          const char *reference, const char *expect, const char *media_type,
                          struct fetched *out, struct stack_error **err) {
  *out = (struct fetched){0};
  if (expect && blobstore_has(bs, expect)) {
    int r = blobstore_read(bs, expect, MANIFEST_MAX_SIZE, &out->body, &out->len, err);
    if (r == 0) {
      out->content_type = media_type ? xstrdup(media_type) : NULL;
      out->digest = xstrdup(expect);
      return 0;
    }
    stack_error_free(err ? *err : NULL);
    if (err)
      *err = NULL;
  }
  struct reg_client *c;
  int r = lazy_get(lc, &c, err);
  if (r < 0)
    return r;
  _cleanup_free_ char *url = xasprintf("%s/manifests/%s", reg_client_repo_url(c), reference);
  const char *headers[] = {MANIFEST_ACCEPT, NULL};
  struct reg_request req = {
      .method = "GET", .url = url, .headers = headers, .body_fd = -1, .max_body = MANIFEST_MAX_SIZE};
  struct http_response resp = {.content_length = -1};
  r = reg_client_do(c, &req, &resp, err);
  if (r < 0)
    goto done;
  if (resp.too_big) {
    r = stack_error_set(err, -EFBIG,
                        "%s: the registry's manifest is larger than %u bytes; refusing it", name,
                        MANIFEST_MAX_SIZE);
    goto done;
  }
  if (resp.status != 200) {
    _cleanup_free_ char *what = xasprintf("manifest %s", reference);
    r = http_status_error(c, resp.status, what, name, err);
    goto done;
  }
  const char *body = resp.body.data ? resp.body.data : "";
  char *got = blobstore_digest_of(body, resp.body.len);
  if (expect && strcmp(got, expect) != 0) {
    r = stack_error_set(err, -EBADMSG,
                        "%s: the registry sent a manifest that does not match its digest "
                        "(expected %s, got %s)",
                        name, expect, got);
    free(got);
    goto done;
  }
  if (!expect && resp.docker_digest && strncmp(resp.docker_digest, "sha256:", 7) == 0 &&
      strcmp(resp.docker_digest, got) != 0) {
    r = stack_error_set(err, -EBADMSG,
                        "%s: the manifest does not match the registry's Docker-Content-Digest "
                        "(header %s, content %s)",
                        name, resp.docker_digest, got);
    free(got);
    goto done;
  }
  out->digest = got;
  out->len = resp.body.len;
  out->body = resp.body.len ? sbuf_steal(&resp.body) : xstrdup("");
  out->content_type = steal_pointer(&resp.content_type);
done:
  http_response_clear(&resp);
  return r;
}

/* GETs a small blob (the config) and stores it, verified. */
static int fetch_config(struct lazy_client *lc, struct blobstore *bs, const char *name,
                        const struct descriptor *d, struct stack_error **err) {
  if (blobstore_has(bs, d->digest))
    return 0;
  struct reg_client *c;
  int r = lazy_get(lc, &c, err);
  if (r < 0)
    return r;
  if (d->size > (int64_t)CONFIG_MAX_SIZE)
    return stack_error_set(err, -EFBIG, "%s: image config is %lld bytes, more than %u allowed",
                           name, (long long)d->size, CONFIG_MAX_SIZE);
  _cleanup_free_ char *url = xasprintf("%s/blobs/%s", reg_client_repo_url(c), d->digest);
  struct reg_request req = {
      .method = "GET", .url = url, .body_fd = -1, .max_body = (size_t)d->size + 1};
  struct http_response resp = {.content_length = -1};
  r = reg_client_do(c, &req, &resp, err);
  if (r == 0 && resp.too_big)
    r = stack_error_set(err, -EBADMSG, "%s: config blob %s is larger than its declared %lld bytes",
                        name, d->digest, (long long)d->size);
  else if (r == 0 && resp.status != 200) {
    _cleanup_free_ char *what = xasprintf("config blob %s", d->digest);
    r = http_status_error(c, resp.status, what, name, err);
  } else if (r == 0 && (int64_t)resp.body.len != d->size)
    r = stack_error_set(err, -EBADMSG, "%s: config blob %s is %zu bytes, the manifest says %lld",
                        name, d->digest, resp.body.len, (long long)d->size);
  else if (r == 0) {
    r = blobstore_put(bs, d->digest, resp.body.data ? resp.body.data : "", resp.body.len, NULL, err);
    if (r < 0)
      stack_error_prefix(err, "%s: config", name);
  }
  http_response_clear(&resp);
  return r;
}

/* One layer download. */
struct download {
  const struct descriptor *d;
  struct blobstore *bs;
  struct blob_writer *w;
  CURL *e;
  struct curl_slist *headers;
  struct http_response resp;
  uint64_t offset;   /* where this attempt started */
  uint64_t received; /* bytes of this attempt written */
  int attempts;
  size_t row;
  struct stack_error *werr; /* a write-side failure that aborted the transfer */
  char errbuf[CURL_ERROR_SIZE];
  struct pull_progress *progress;
};

static size_t download_write_cb(char *buf, size_t size, size_t n, void *userdata) {
  struct download *dl = userdata;
  size_t len = size * n;
  if (dl->resp.status != 200 && dl->resp.status != 206)
    return len; /* an error page: judged by status when the transfer ends */
  if (dl->resp.status == 200 && dl->offset > 0 && dl->received == 0) {
    /* The server ignored Range: start over from byte 0. */
    blob_writer_abort(dl->w, false);
    dl->w = NULL;
    uint64_t resume = 0;
    if (blobstore_writer_open(dl->bs, dl->d->digest, dl->d->size, &dl->w, &resume, &dl->werr) < 0)
      return 0;
    if (resume != 0) {
      stack_error_set(&dl->werr, -EIO, "cannot restart the download of %s", dl->d->digest);
      return 0;
    }
    dl->offset = 0;
  }
  if (blob_writer_write(dl->w, buf, len, &dl->werr) < 0)
    return 0;
  dl->received += len;
  pull_progress_update(dl->progress, dl->row, (int64_t)(dl->offset + dl->received), NULL);
  return len;
}

/* Starts (or restarts, resuming) a layer transfer: 0 when started, 1 when
 * nothing is left to fetch (another process committed the blob while we
 * waited for its lock, or an earlier attempt got every byte). */
static int download_start(struct reg_client *c, CURLM *m, struct download *dl,
                          struct stack_error **err) {
  if (dl->w == NULL) {
    int r = blobstore_writer_open(dl->bs, dl->d->digest, dl->d->size, &dl->w, &dl->offset, err);
    if (r < 0)
      return r;
  }
  if (dl->d->size >= 0 && dl->offset == (uint64_t)dl->d->size) {
    int r = blob_writer_commit(steal_pointer(&dl->w), err);
    if (r < 0)
      return stack_error_prefix(err, "layer");
    pull_progress_update(dl->progress, dl->row, dl->d->size, "Pull complete");
    return 1;
  }
  dl->received = 0;
  dl->attempts++;
  http_response_clear(&dl->resp);
  curl_slist_free_all(dl->headers);
  dl->headers = NULL;
  if (dl->e)
    curl_easy_cleanup(dl->e);
  dl->e = curl_easy_init();
  if (dl->e == NULL)
    return stack_error_set(err, -ENOMEM, "curl_easy_init failed");
  _cleanup_free_ char *url = xasprintf("%s/blobs/%s", reg_client_repo_url(c), dl->d->digest);
  reg_client_setup_easy(c, dl->e, url, &dl->headers);
  dl->errbuf[0] = '\0';
  curl_easy_setopt(dl->e, CURLOPT_ERRORBUFFER, dl->errbuf);
  curl_easy_setopt(dl->e, CURLOPT_HEADERFUNCTION, http_response_header_cb);
  curl_easy_setopt(dl->e, CURLOPT_HEADERDATA, &dl->resp);
  curl_easy_setopt(dl->e, CURLOPT_WRITEFUNCTION, download_write_cb);
  curl_easy_setopt(dl->e, CURLOPT_WRITEDATA, dl);
  curl_easy_setopt(dl->e, CURLOPT_PRIVATE, dl);
  if (dl->offset > 0)
    curl_easy_setopt(dl->e, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)dl->offset);
  pull_progress_update(dl->progress, dl->row, (int64_t)dl->offset,
                       dl->attempts > 1 ? "Resuming" : "Downloading");
  CURLMcode mc = curl_multi_add_handle(m, dl->e);
  if (mc != CURLM_OK)
    return stack_error_set(err, -EIO, "curl_multi_add_handle: %s", curl_multi_strerror(mc));
  return 0;
}

static void download_clear(struct download *dl, CURLM *m) {
  if (dl->e) {
    curl_multi_remove_handle(m, dl->e);
    curl_easy_cleanup(dl->e);
  }
  curl_slist_free_all(dl->headers);
  http_response_clear(&dl->resp);
  /* An unfinished download keeps its partial file for the next pull. */
  blob_writer_abort(dl->w, true);
  stack_error_free(dl->werr);
  *dl = (struct download){0};
}

/* A transfer ended: commit, retry (resuming), or fail.  Returns 1 when it
 * was restarted, 0 when done, < 0 on error. */
static int download_finish(struct reg_client *c, CURLM *m, struct download *dl, CURLcode code,
                           const char *name, struct stack_error **err) {
  curl_multi_remove_handle(m, dl->e);
  if (dl->werr) {
    /* Too much data, or a local write failure: not worth a retry. */
    bool bad = dl->werr->code == -EBADMSG;
    if (err) {
      stack_error_free(*err);
      *err = steal_pointer(&dl->werr);
    }
    blob_writer_abort(steal_pointer(&dl->w), !bad);
    return stack_error_prefix(err, "%s: layer %s", name, dl->d->digest);
  }
  long status = dl->resp.status;
  bool transient = code != CURLE_OK && code != CURLE_TOO_MANY_REDIRECTS &&
                   code != CURLE_PEER_FAILED_VERIFICATION && code != CURLE_UNSUPPORTED_PROTOCOL;
  if (code == CURLE_OK && (status == 200 || status == 206)) {
    pull_progress_update(dl->progress, dl->row, dl->d->size, "Verifying");
    int r = blob_writer_commit(steal_pointer(&dl->w), err);
    if (r < 0)
      return stack_error_prefix(err, "%s: layer", name);
    pull_progress_update(dl->progress, dl->row, dl->d->size, "Pull complete");
    return 0;
  }
  if (code == CURLE_OK && status == 416 && dl->offset > 0) {
    /* Our partial file is not a prefix the server agrees with: start over. */
    blob_writer_abort(steal_pointer(&dl->w), false);
    transient = true;
  } else if (code == CURLE_OK && (status >= 500 || status == 429)) {
    transient = true;
  } else if (code == CURLE_OK && status == 401 && dl->attempts < DOWNLOAD_ATTEMPTS) {
    /* The token expired during a long download: renew it and resume. */
    int r = reg_client_reauth(c, dl->resp.www_authenticate, err);
    if (r < 0)
      return stack_error_prefix(err, "%s: layer %s", name, dl->d->digest);
    transient = true;
  }
  if (transient && dl->attempts < DOWNLOAD_ATTEMPTS) {
    /* Keep what arrived and resume from there. */
    if (dl->w) {
      blob_writer_abort(steal_pointer(&dl->w), true);
    }
    int r = reg_client_refresh(c, err);
    if (r == 0)
      r = download_start(c, m, dl, err);
    return r < 0 ? r : r == 0 ? 1 : 0;
  }
  if (code != CURLE_OK) {
    _cleanup_free_ char *msg = reg_client_curl_error(c, code, dl->errbuf);
    return stack_error_set(err, -EIO, "%s: downloading layer %s: %s%s", name, dl->d->digest, msg,
                           transient ? " (gave up after retries; pull again to resume)" : "");
  }
  _cleanup_free_ char *what = xasprintf("layer %s", dl->d->digest);
  return http_status_error(c, status, what, name, err);
}

static int download_layers(struct lazy_client *lc, struct blobstore *bs, const struct manifest *m,
                           const char *name, struct pull_progress *progress,
                           struct stack_error **err) {
  size_t n = m->n_items;
  _cleanup_free_ struct download *dls = xcalloc(n ? n : 1, sizeof(*dls));
  size_t n_todo = 0;
  for (size_t i = 0; i < n; i++) {
    const struct descriptor *d = &m->items[i];
    enum layer_compression comp;
    int r = layer_compression(d->media_type, &comp, err);
    if (r < 0)
      return stack_error_prefix(err, "%s: layer %s", name, d->digest);
    bool dup = false;
    for (size_t k = 0; k < i; k++)
      dup |= strcmp(m->items[k].digest, d->digest) == 0;
    if (dup)
      continue; /* one download (and one writer lock) per digest */
    size_t row = pull_progress_add(progress, d->digest, d->size);
    if (blobstore_has(bs, d->digest)) {
      pull_progress_update(progress, row, d->size, "Already exists");
      continue;
    }
    dls[n_todo++] = (struct download){.d = d, .bs = bs, .row = row, .progress = progress};
  }
  pull_progress_draw(progress, true);
  if (n_todo == 0)
    return 0;

  struct reg_client *c;
  int r = lazy_get(lc, &c, err);
  if (r == 0)
    r = reg_client_refresh(c, err);
  if (r < 0)
    return r;
  CURLM *multi = curl_multi_init();
  if (multi == NULL)
    return stack_error_set(err, -ENOMEM, "curl_multi_init failed");
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)PARALLEL_DOWNLOADS);
  curl_multi_setopt(multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
  /* At most PARALLEL_DOWNLOADS transfers (and open blob writers) at once,
   * however many layers a manifest lists. */
  size_t next = 0, active = 0;
  for (;;) {
    while (r == 0 && active < PARALLEL_DOWNLOADS && next < n_todo) {
      int sr = download_start(c, multi, &dls[next++], err);
      if (sr < 0)
        r = sr;
      else if (sr == 0)
        active++;
    }
    if (r < 0 || active == 0)
      break;
    int running;
    CURLMcode mc = curl_multi_perform(multi, &running);
    if (mc != CURLM_OK) {
      r = stack_error_set(err, -EIO, "curl_multi_perform: %s", curl_multi_strerror(mc));
      break;
    }
    CURLMsg *msg;
    int left;
    while (r == 0 && (msg = curl_multi_info_read(multi, &left)) != NULL) {
      if (msg->msg != CURLMSG_DONE)
        continue;
      struct download *dl = NULL;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&dl);
      int fr = download_finish(c, multi, dl, msg->data.result, name, err);
      if (fr < 0)
        r = fr;
      else if (fr == 0)
        active--; /* done; 1: restarted, still active */
    }
    pull_progress_draw(progress, false);
    /* Wait for data unless a finished slot can take the next layer now. */
    bool can_start = active < PARALLEL_DOWNLOADS && next < n_todo;
    if (r == 0 && active > 0 && !can_start) {
      mc = curl_multi_poll(multi, NULL, 0, 100, NULL);
      if (mc != CURLM_OK)
        r = stack_error_set(err, -EIO, "curl_multi_poll: %s", curl_multi_strerror(mc));
    }
  }
  for (size_t i = 0; i < n_todo; i++)
    download_clear(&dls[i], multi);
  curl_multi_cleanup(multi);
  pull_progress_draw(progress, true);
  return r;
}

static bool platform_matches(const struct image_config *cfg, const char *platform) {
  _cleanup_free_ char *want = xstrdup(platform);
  char *arch = strchr(want, '/');
  if (!arch || !cfg->os || !cfg->architecture)
    return true; /* nothing to compare against */
  *arch++ = '\0';
  char *variant = strchr(arch, '/');
  if (variant)
    *variant++ = '\0';
  if (strcmp(arch, "x86_64") == 0)
    arch = "amd64";
  else if (strcmp(arch, "aarch64") == 0)
    arch = "arm64";
  return strcmp(want, cfg->os) == 0 && strcmp(arch, cfg->architecture) == 0 &&
         (!variant || !cfg->variant || strcmp(variant, cfg->variant) == 0);
}

int registry_pull(const char *store_root, const char *refstr, const char *platform, bool quiet,
                  struct image_record *out, struct stack_error **err) {
  _cleanup_image_ref_ struct image_ref ref = {0};
  int r = image_ref_parse(refstr, &ref, err);
  if (r < 0)
    return r;
  _cleanup_free_ char *name = image_ref_string(&ref);
  _cleanup_blobstore_ struct blobstore *bs = NULL;
  r = blobstore_open(store_root, &bs, err);
  if (r < 0)
    return r;
  _cleanup_(lazy_clear) struct lazy_client lc = {.ref = &ref, .name = name};
  struct lazy_client *c = &lc;
  _cleanup_(pull_progress_freep) struct pull_progress *progress = pull_progress_new(quiet);
  if (!quiet)
    fprintf(stderr, "%s Pulling\n", name);

  struct fetched top = {0}, child = {0};
  _cleanup_manifest_ struct manifest top_m = {0}, image_m = {0};
  _cleanup_free_ char *index_digest = NULL, *plat = NULL;
  struct image_config cfg = {0};
  _cleanup_free_ char *cfg_json = NULL;
  size_t cfg_len = 0;
  r = fetch_manifest(c, bs, name, image_ref_reference(&ref), ref.digest, NULL, &top, err);
  if (r < 0)
    goto out;
  r = manifest_parse(top.content_type, top.body, top.len, &top_m, err);
  if (r < 0) {
    stack_error_prefix(err, "%s", name);
    goto out;
  }
  struct fetched *image = &top;
  struct manifest *im = &top_m;
  if (top_m.kind == MANIFEST_INDEX) {
    size_t pick;
    r = manifest_choose_platform(&top_m, platform, &pick, err);
    if (r < 0) {
      stack_error_prefix(err, "%s", name);
      goto out;
    }
    const struct descriptor *d = &top_m.items[pick];
    if (d->size > (int64_t)MANIFEST_MAX_SIZE) {
      r = stack_error_set(err, -EFBIG, "%s: platform manifest is %lld bytes, more than %u allowed",
                          name, (long long)d->size, MANIFEST_MAX_SIZE);
      goto out;
    }
    r = fetch_manifest(c, bs, name, d->digest, d->digest, d->media_type, &child, err);
    if (r < 0)
      goto out;
    r = manifest_parse(child.content_type, child.body, child.len, &image_m, err);
    if (r == 0 && image_m.kind != MANIFEST_IMAGE)
      r = stack_error_set(err, -EINVAL, "an index entry points to another index");
    if (r < 0) {
      stack_error_prefix(err, "%s: platform manifest %s", name, d->digest);
      goto out;
    }
    index_digest = xstrdup(top.digest);
    image = &child;
    im = &image_m;
  }

  r = fetch_config(c, bs, name, &im->config, err);
  if (r < 0)
    goto out;
  r = blobstore_read(bs, im->config.digest, CONFIG_MAX_SIZE, &cfg_json, &cfg_len, err);
  if (r < 0)
    goto out;
  r = image_config_parse(cfg_json, cfg_len, &cfg, err);
  if (r < 0) {
    stack_error_prefix(err, "%s: config %s", name, im->config.digest);
    goto out;
  }
  if (platform && top_m.kind == MANIFEST_IMAGE && !platform_matches(&cfg, platform)) {
    r = stack_error_set(err, -ENOENT,
                        "%s is for %s/%s%s%s, not for the requested platform %s", name,
                        cfg.os, cfg.architecture, cfg.variant ? "/" : "",
                        cfg.variant ? cfg.variant : "", platform);
    goto out;
  }

  r = download_layers(c, bs, im, name, progress, err);
  if (r < 0)
    goto out;

  /* Content first, then the documents that point at it, then the record. */
  r = blobstore_put(bs, image->digest, image->body, image->len, NULL, err);
  if (r == 0 && index_digest)
    r = blobstore_put(bs, index_digest, top.body, top.len, NULL, err);
  if (r < 0)
    goto out;
  int64_t size = 0;
  for (size_t i = 0; i < im->n_items; i++)
    size += im->items[i].size;
  plat = xasprintf("%s/%s%s%s", cfg.os ? cfg.os : "linux",
                                        cfg.architecture ? cfg.architecture : "unknown",
                                        cfg.variant ? "/" : "", cfg.variant ? cfg.variant : "");
  struct image_record rec = {
      .ref = name,
      .manifest_digest = image->digest,
      .config_digest = im->config.digest,
      .platform = plat,
      .size = size,
      .created = (int64_t)time(NULL),
  };
  r = image_index_put(store_root, &rec, err);
  if (r < 0)
    goto out;
  if (!quiet)
    fprintf(stderr, "%s Pulled\n", name);
  if (out) {
    *out = (struct image_record){
        .ref = xstrdup(name),
        .manifest_digest = xstrdup(image->digest),
        .config_digest = xstrdup(im->config.digest),
        .platform = steal_pointer(&plat),
        .size = size,
        .created = rec.created,
    };
  }
out:
  image_config_clear(&cfg);
  fetched_clear(&top);
  fetched_clear(&child);
  return r;
}
