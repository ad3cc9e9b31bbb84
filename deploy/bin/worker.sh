#!/bin/sh
# A worker node in one container: the kubelet (docker runtime, through the
# host's Docker socket) and kube-proxy (Services and cluster DNS). When either ends, the other is
# stopped and the container exits, so its restart policy restarts the node
# as a whole. SIGTERM is passed on to both.
# Extra arguments go to the kubelet.
#
# Cluster DNS: kube-proxy answers on port 53 of this container's address on
# the compose network (the worker runs as root), and the kubelet gives every
# pod that address as its nameserver (--cluster-dns), with the search list of
# --cluster-domain, so pods resolve Service names (<svc>.<ns>.svc.cluster.local,
# and a StatefulSet's <pod>.<svc> under a headless Service). Other names go on
# to Docker's resolver, the one this container's resolv.conf names.
#
# ClusterIPs: pods are sibling containers, so their packets do not pass
# through this container. The Service range is made local here (a `local`
# route on lo; the container has NET_ADMIN), kube-proxy serves each ClusterIP
# at its real address (userspace mode, --service-address cluster-ip), and the
# kubelet's Docker runtime gives every new pod sandbox the route
# "<range> via <this node>" (--service-route-cidr). A pod's
# connection to a ClusterIP thus goes to its own node's kube-proxy, which
# forwards it to a ready endpoint. SERVICE_CLUSTER_IP_RANGE must match the API
# server's --service-cluster-ip-range; empty turns the routes off.
#
# The Ingress is not served here: the compose service `ingress` does it.
set -u
: "${NODE_NAME:?set NODE_NAME to the node's name}"
AUTH_DIR="${AUTH_DIR:-/var/lib/kube-lite/auth}"
APISERVER_GRPC="${APISERVER_GRPC:-kubernetes:6444}"
CLUSTER_DOMAIN="${CLUSTER_DOMAIN:-cluster.local}"
SERVICE_CLUSTER_IP_RANGE="${SERVICE_CLUSTER_IP_RANGE-10.96.0.0/12}"
# This container's IPv4 address on the compose network (node is in the image; busybox hostname -i is not everywhere).
NODE_IP="${NODE_IP:-$(node -e 'const address = Object.values(require("os").networkInterfaces()).flat().find((i) => i && i.family === "IPv4" && !i.internal); process.stdout.write(address ? address.address : "")')}"
: "${NODE_IP:?cannot find the IPv4 address of this container; set NODE_IP}"

service_route_flags=""
if [ -n "$SERVICE_CLUSTER_IP_RANGE" ]; then
  if ip route replace local "$SERVICE_CLUSTER_IP_RANGE" dev lo; then
    service_route_flags="--service-route-cidr $SERVICE_CLUSTER_IP_RANGE"
  else
    echo "worker $NODE_NAME: cannot make $SERVICE_CLUSTER_IP_RANGE local (needs \`ip\` and NET_ADMIN); pods will not reach ClusterIPs" >&2
  fi
fi

kubelet \
  --kubeconfig "$AUTH_DIR/kubelet-$NODE_NAME.kubeconfig" \
  --master "$APISERVER_GRPC" \
  --hostname-override "$NODE_NAME" \
  --root-dir /var/lib/kubelet \
  --container-runtime docker \
  --node-status-update-frequency "${NODE_STATUS_UPDATE_FREQUENCY:-2s}" \
  --cluster-dns "$NODE_IP" \
  --cluster-domain "$CLUSTER_DOMAIN" \
  $service_route_flags \
  "$@" &
kubelet_pid=$!

kube-proxy \
  --kubeconfig "$AUTH_DIR/kube-proxy.kubeconfig" \
  --master "$APISERVER_GRPC" \
  --hostname-override "$NODE_NAME" \
  --proxy-mode userspace \
  --service-address cluster-ip \
  --healthz-bind-address 0.0.0.0:10256 \
  --cluster-dns-address "$NODE_IP:53" \
  --cluster-domain "$CLUSTER_DOMAIN" \
  --dns-upstream resolv.conf &
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
