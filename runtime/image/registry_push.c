/* registry_push() and registry_login(): blobs the registry lacks go up first
 * (HEAD to skip, a cross-repository mount when the image came from another
 * repository of the same registry, else POST + monolithic PUT), the manifest
 * last, so the registry never holds a manifest with missing blobs. */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "runtime/image/blobstore.h"
#include "runtime/image/credentials.h"
#include "runtime/image/image_index.h"
#include "runtime/image/manifest.h"
#include "runtime/image/reference.h"
#include "runtime/image/registry.h"
#include "runtime/image/registry_http.h"
#include "runtime/util/cleanup.h"
#include "runtime/util/error.h"
#include "runtime/util/xalloc.h"

static void image_record_freep(struct image_record **r) { image_record_free(*r); }

static char *absolute_location(struct reg_client *c, const char *loc) {
  if (strncmp(loc, "http://", 7) == 0 || strncmp(loc, "https://", 8) == 0)
    return xstrdup(loc);
  _cleanup_free_ char *origin = reg_client_origin(c);
  return xasprintf("%s%s%s", origin, loc[0] == '/' ? "" : "/", loc);
}

static int push_blob(struct reg_client *c, struct blobstore *bs, const char *name,
                     const struct descriptor *d, const char *mount_from, bool quiet,
                     struct stack_error **err) {
  const char *short_id = d->digest + 7;
  _cleanup_http_response_ struct http_response resp = {.content_length = -1};
  _cleanup_free_ char *url = xasprintf("%s/blobs/%s", reg_client_repo_url(c), d->digest);
  struct reg_request head = {.method = "HEAD", .url = url, .body_fd = -1};
  int r = reg_client_do(c, &head, &resp, err);
  if (r < 0)
    return r;
  if (resp.status == 200) {
    if (!quiet)
      fprintf(stderr, "%.12s Layer already exists\n", short_id);
    return 0;
  }

  _cleanup_free_ char *post_url = NULL;
  if (mount_from) {
    CURL *esc = curl_easy_init();
    char *from = esc ? curl_easy_escape(esc, mount_from, 0) : NULL;
    post_url = xasprintf("%s/blobs/uploads/?mount=%s&from=%s", reg_client_repo_url(c), d->digest,
                         from ? from : "");
    curl_free(from);
    curl_easy_cleanup(esc);
  } else {
    post_url = xasprintf("%s/blobs/uploads/", reg_client_repo_url(c));
  }
  struct reg_request post = {.method = "POST", .url = post_url, .body_fd = -1};
  r = reg_client_do(c, &post, &resp, err);
  if (r < 0)
    return r;
  if (resp.status == 201) {
    if (!quiet)
      fprintf(stderr, "%.12s Mounted from %s\n", short_id, mount_from);
    return 0;
  }
  if (resp.status != 202 || resp.location == NULL)
    return stack_error_set(err, resp.status == 401 || resp.status == 403 ? -EACCES : -EPROTO,
                           "pushing %s: starting the upload of %s: %s answered HTTP %ld%s", name,
                           d->digest, reg_client_host(c), resp.status,
                           resp.status == 401 || resp.status == 403
                               ? " (run `stack login` with an account that may push)"
                               : "");
  _cleanup_free_ char *loc = absolute_location(c, resp.location);
  _cleanup_free_ char *put_url =
      xasprintf("%s%sdigest=%s", loc, strchr(loc, '?') ? "&" : "?", d->digest);

  _cleanup_close_ int fd = -1;
  int64_t size = 0;
  r = blobstore_open_blob(bs, d->digest, &fd, &size, err);
  if (r < 0)
    return stack_error_prefix(err, "pushing %s", name);
  const char *headers[] = {"Content-Type: application/octet-stream", NULL};
  struct reg_request put = {
      .method = "PUT", .url = put_url, .headers = headers, .body_fd = fd, .body_fd_size = size};
  if (!quiet)
    fprintf(stderr, "%.12s Pushing\n", short_id);
  r = reg_client_do(c, &put, &resp, err);
  if (r < 0)
    return r;
  if (resp.status != 201)
    return stack_error_set(err, -EPROTO, "pushing %s: uploading %s: %s answered HTTP %ld: %.200s",
                           name, d->digest, reg_client_host(c), resp.status,
                           resp.body.data ? resp.body.data : "");
  if (!quiet)
    fprintf(stderr, "%.12s Pushed\n", short_id);
  return 0;
}

int registry_push(const char *store_root, const char *local_ref, const char *remote_ref, bool quiet,
                  struct stack_error **err) {
  _cleanup_image_ref_ struct image_ref src = {0}, dst = {0};
  int r = image_ref_parse(local_ref, &src, err);
  if (r < 0)
    return r;
  r = image_ref_parse(remote_ref ? remote_ref : local_ref, &dst, err);
  if (r < 0)
    return r;
  if (dst.digest)
    return stack_error_set(err, -EINVAL,
                           "cannot push to %s: a digest names content, push to a tag instead",
                           remote_ref ? remote_ref : local_ref);
  _cleanup_free_ char *src_name = image_ref_string(&src);
  _cleanup_free_ char *dst_name = image_ref_string(&dst);
  _cleanup_(image_record_freep) struct image_record *rec = NULL;
  r = image_index_get(store_root, src_name, &rec, err);
  if (r < 0)
    return r;
  _cleanup_blobstore_ struct blobstore *bs = NULL;
  r = blobstore_open(store_root, &bs, err);
  if (r < 0)
    return r;
  _cleanup_free_ char *body = NULL;
  size_t len = 0;
  r = blobstore_read(bs, rec->manifest_digest, MANIFEST_MAX_SIZE, &body, &len, err);
  if (r < 0)
    return stack_error_prefix(err, "pushing %s", src_name);
  _cleanup_manifest_ struct manifest m = {0};
  r = manifest_parse(NULL, body, len, &m, err);
  if (r < 0)
    return stack_error_prefix(err, "pushing %s: manifest %s", src_name, rec->manifest_digest);
  if (m.kind != MANIFEST_IMAGE)
    return stack_error_set(err, -ENOTSUP, "pushing %s: only single-platform images can be pushed",
                           src_name);

  _cleanup_reg_client_ struct reg_client *c = NULL;
  r = reg_client_open(image_ref_api_host(&dst), dst.path, "pull,push", &c, err);
  if (r < 0)
    return stack_error_prefix(err, "pushing %s", dst_name);
  const char *mount_from = strcmp(src.domain, dst.domain) == 0 && strcmp(src.path, dst.path) != 0
                               ? src.path
                               : NULL;
  if (!quiet)
    fprintf(stderr, "The push refers to repository [%s/%s]\n", dst.domain, dst.path);
  r = push_blob(c, bs, dst_name, &m.config, mount_from, true, err);
  for (size_t i = 0; r == 0 && i < m.n_items; i++)
    r = push_blob(c, bs, dst_name, &m.items[i], mount_from, quiet, err);
  if (r < 0)
    return r;

  _cleanup_free_ char *url = xasprintf("%s/manifests/%s", reg_client_repo_url(c), dst.tag);
  _cleanup_free_ char *ct = xasprintf("Content-Type: %s", m.media_type);
  const char *headers[] = {ct, NULL};
  struct reg_request put = {
      .method = "PUT", .url = url, .headers = headers, .body = body, .body_len = len, .body_fd = -1};
  _cleanup_http_response_ struct http_response resp = {.content_length = -1};
  r = reg_client_do(c, &put, &resp, err);
  if (r < 0)
    return r;
  if (resp.status != 201)
    return stack_error_set(err, -EPROTO, "pushing %s: the manifest PUT answered HTTP %ld: %.300s",
                           dst_name, resp.status, resp.body.data ? resp.body.data : "");
  if (resp.docker_digest && strcmp(resp.docker_digest, rec->manifest_digest) != 0)
    return stack_error_set(err, -EBADMSG,
                           "pushing %s: the registry stored the manifest as %s, expected %s",
                           dst_name, resp.docker_digest, rec->manifest_digest);
  if (!quiet)
    fprintf(stderr, "%s: digest: %s size: %zu\n", dst.tag, rec->manifest_digest, len);
  return 0;
}

int registry_login(const char *host, const char *user, const char *pass, struct stack_error **err) {
  const char *api = strcmp(host, "docker.io") == 0 ? "registry-1.docker.io" : host;
  _cleanup_reg_client_ struct reg_client *c = NULL;
  int r = reg_client_open_with(api, "", "pull", user, pass, &c, err);
  if (r < 0)
    return stack_error_prefix(err, "login to %s", host);
  _cleanup_free_ char *origin = reg_client_origin(c);
  _cleanup_free_ char *url = xasprintf("%s/v2/", origin);
  struct reg_request req = {.method = "GET", .url = url, .body_fd = -1};
  _cleanup_http_response_ struct http_response resp = {.content_length = -1};
  r = reg_client_do(c, &req, &resp, err);
  if (r < 0)
    return stack_error_prefix(err, "login to %s", host);
  if (resp.status == 401 || resp.status == 403)
    return stack_error_set(err, -EACCES, "login to %s failed: the registry rejected the "
                                         "credentials of %s",
                           host, user);
  if (resp.status != 200)
    return stack_error_set(err, -EPROTO, "login to %s: GET /v2/ answered HTTP %ld", host,
                           resp.status);
  return credentials_store(host, user, pass, err);
}
