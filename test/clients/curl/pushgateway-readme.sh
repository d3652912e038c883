#!/usr/bin/env bash
# The command-line examples of Pushgateway's README, run as written except for
# the host (pushgateway.example.org:9091 becomes $GATEWAY), plus a PUT and a
# gzip-compressed push in the same style.
#   GATEWAY=http://127.0.0.1:9292 pushgateway-readme.sh STEP
# The README's first two examples push `some_metric` untyped and as a counter:
# on one pushgateway (with the consistency check) the second is rejected while
# the first is stored, so they run as separate steps with a delete between.
# The caller sets CURL_HOME to a .curlrc with --fail-with-body, so any non-2xx
# answer fails the script.
set -euo pipefail

# The README pipes through `base64url` from Debian's basez; the same encoding
# (RFC 4648 URL-safe alphabet, no padding) with coreutils:
base64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }

case "$1" in
untyped)
  echo "some_metric 3.14" | curl --data-binary @- $GATEWAY/metrics/job/some_job

  echo 'some_metric{foo="bar"} 3.14' | curl --data-binary @- $GATEWAY/metrics/job/directory_cleaner/path@base64/$(echo -n '/var/tmp' | base64url)

  # The README's two spellings of one grouping key: the second push replaces the first.
  echo "titan_metric 1" | curl --data-binary @- $GATEWAY/metrics/job/titan/name/%CE%A0%CF%81%CE%BF%CE%BC%CE%B7%CE%B8%CE%B5%CF%8D%CF%82
  echo "titan_metric 2" | curl --data-binary @- $GATEWAY/metrics/job/titan/name@base64/zqDPgc6_zrzOt864zrXPjc-C

  echo "empty_label_metric 1" | curl --data-binary @- $GATEWAY/metrics/job/example/first_label@base64/=/second_label/foobar

  # PUT replaces the whole group (the POSTs above replace same-named families only).
  echo "put_metric 5" | curl -X PUT --data-binary @- $GATEWAY/metrics/job/put_job/instance/a

  # A gzip-compressed body.
  echo "gzipped_metric 6" | gzip | curl -H 'Content-Encoding: gzip' --data-binary @- $GATEWAY/metrics/job/gzipped
  ;;
delete-untyped)
  curl -X DELETE $GATEWAY/metrics/job/some_job
  curl -X DELETE $GATEWAY/metrics/job/directory_cleaner/path@base64/$(echo -n '/var/tmp' | base64url)
  ;;
typed)
  cat <<EOF | curl --data-binary @- $GATEWAY/metrics/job/some_job/instance/some_instance
# TYPE some_metric counter
some_metric{label="val1"} 42
# TYPE another_metric gauge
# HELP another_metric Just an example.
another_metric 2398.283
EOF
  ;;
delete-typed)
  curl -X DELETE $GATEWAY/metrics/job/some_job/instance/some_instance
  ;;
*)
  echo "usage: $0 untyped|delete-untyped|typed|delete-typed" >&2
  exit 2
  ;;
esac
