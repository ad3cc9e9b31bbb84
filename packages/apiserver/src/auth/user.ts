// Who made a request, as every later stage (authorization, admission,
// managedFields, audit) sees it. Mirrors upstream's user.Info.

export interface UserInfo {
  /** The user name, e.g. `admin`, `system:node:worker-1`, `system:kube-scheduler`. */
  name: string;
  /** A stable id for the user; `` when the source has none. */
  uid: string;
  /** Group names; authenticated users also carry `system:authenticated`. */
  groups: string[];
}

/** Every authenticated user is in this group (upstream adds it too). */
export const AUTHENTICATED_GROUP = 'system:authenticated';
/** Requests without credentials carry this group. */
export const UNAUTHENTICATED_GROUP = 'system:unauthenticated';
/** Members may do everything. */
export const MASTERS_GROUP = 'system:masters';
/** Kubelets; their user name is `system:node:<nodeName>`. */
export const NODES_GROUP = 'system:nodes';
export const NODE_USER_PREFIX = 'system:node:';

export const ANONYMOUS_USER: UserInfo = Object.freeze({
  name: 'system:anonymous',
  uid: '',
  groups: Object.freeze([UNAUTHENTICATED_GROUP]) as string[],
});

/** The user with `system:authenticated` added once. */
export function withAuthenticatedGroup(user: UserInfo): UserInfo {
  return user.groups.includes(AUTHENTICATED_GROUP) ? user : { ...user, groups: [...user.groups, AUTHENTICATED_GROUP] };
}

/** The node a kubelet identity speaks for, or undefined when the user is not a node. */
export function nodeNameOf(user: UserInfo): string | undefined {
  if (!user.name.startsWith(NODE_USER_PREFIX) || !user.groups.includes(NODES_GROUP)) return undefined;
  const nodeName = user.name.slice(NODE_USER_PREFIX.length);
  return nodeName === '' ? undefined : nodeName;
}
