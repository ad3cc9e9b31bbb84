/** The version Status reports: the etcd release whose API etcd-lite serves (etcdctl and clients read it). */
export const ETCD_API_VERSION = '3.4.23';
