#!/bin/sh
# A worker node in one container: the kubelet (docker runtime, through the
# host's Docker socket) and kube-proxy. When either ends, the other is
# stopped and the container exits, so its restart policy restarts the node
# as a whole. SIGTERM is passed on to both.
# Extra arguments go to the kubelet.
set -u
: "${NODE_NAME:?set NODE_NAME to the node's name}"
AUTH_DIR="${AUTH_DIR:-/var/lib/kube-lite/auth}"
APISERVER_GRPC="${APISERVER_GRPC:-kubernetes:6444}"

kubelet \
  --kubeconfig "$AUTH_DIR/kubelet-$NODE_NAME.kubeconfig" \
  --master "$APISERVER_GRPC" \
  --hostname-override "$NODE_NAME" \
  --root-dir /var/lib/kubelet \
  --container-runtime docker \
  --node-status-update-frequency "${NODE_STATUS_UPDATE_FREQUENCY:-2s}" \
  "$@" &
kubelet_pid=$!

kube-proxy \
  --kubeconfig "$AUTH_DIR/kube-proxy.kubeconfig" \
  --master "$APISERVER_GRPC" \
  --hostname-override "$NODE_NAME" \
  --ingress-address "0.0.0.0:${INGRESS_PORT:-8080}" \
  --healthz-bind-address 0.0.0.0:10256 &
proxy_pid=$!

stopping=0
trap 'stopping=1; kill -TERM "$kubelet_pid" "$proxy_pid" 2>/dev/null' TERM INT
while kill -0 "$kubelet_pid" 2>/dev/null && kill -0 "$proxy_pid" 2>/dev/null; do
  sleep 1 &
  wait $! 2>/dev/null
done
kill -TERM "$kubelet_pid" "$proxy_pid" 2>/dev/null
wait "$kubelet_pid" 2>/dev/null
kubelet_status=$?
wait "$proxy_pid" 2>/dev/null
if [ "$stopping" = 1 ]; then exit 0; fi
echo "worker $NODE_NAME: kubelet or kube-proxy ended (kubelet status $kubelet_status); exiting so the node restarts" >&2
exit 1
