# A busybox root file system for tests and benchmarks, from busybox-static:
# /bin/busybox with every applet as a symlink, users root and app (1000),
# groups root, app (1000) and wheel (10, with app), /tmp (1777), /root,
# /home/app.  Import it with `stack image import DIR NAME`.
#
#     . "$STACK_SOURCE_DIR/tests/lib/busybox_tree.sh"
#     busybox_tree "$tmp/tree"
busybox_tree() {
  local tree=$1 a
  mkdir -p "$tree"/{bin,etc,root,tmp,home/app}
  chmod 1777 "$tree/tmp"
  cp /bin/busybox "$tree/bin/busybox"
  for a in $(/bin/busybox --list); do [[ $a == busybox ]] || ln -s busybox "$tree/bin/$a"; done
  printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n' >"$tree/etc/passwd"
  printf 'root:x:0:\napp:x:1000:\nwheel:x:10:app\n' >"$tree/etc/group"
}
