// Where a pod must say it goes to run on the opt-in real node (scripts/real-node.sh): its name
// (the process agent binds every unscheduled pod to its own node, so real-node pods name
// theirs) and the toleration of the taint the kubelet registers the node with.
export const realNodeName = 'tlsgate-real-node';
export const realNodeToleration = { key: 'tlsgate.test/real-node', operator: 'Equal', value: 'true', effect: 'NoSchedule' };
