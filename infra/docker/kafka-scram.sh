#!/bin/sh
# Entry point of the Kafka container (official apache/kafka image): SASL/SCRAM-SHA-512 users from the compose
# secrets, created when the log is formatted (a KRaft broker needs them before it starts), then the image's own
# start script. Users: mlops-admin (inter-broker, topic provisioning) and mlops-<service> for every
# /run/secrets/<schema>_kafka_password.
set -eu
admin_password=$(cat /run/secrets/kafka_admin_password)
scram="--add-scram SCRAM-SHA-512=[name=mlops-admin,password=$admin_password]"
for f in /run/secrets/*_kafka_password; do
  schema=$(basename "$f" _kafka_password)
  scram="$scram --add-scram SCRAM-SHA-512=[name=mlops-$(echo "$schema" | tr _ -),password=$(cat "$f")]"
done
if [ ! -f "$KAFKA_LOG_DIRS/meta.properties" ]; then
  cat >/tmp/format.properties <<PROPS
process.roles=$KAFKA_PROCESS_ROLES
node.id=$KAFKA_NODE_ID
controller.quorum.voters=$KAFKA_CONTROLLER_QUORUM_VOTERS
controller.listener.names=$KAFKA_CONTROLLER_LISTENER_NAMES
listeners=$KAFKA_LISTENERS
advertised.listeners=$KAFKA_ADVERTISED_LISTENERS
listener.security.protocol.map=$KAFKA_LISTENER_SECURITY_PROTOCOL_MAP
inter.broker.listener.name=$KAFKA_INTER_BROKER_LISTENER_NAME
sasl.enabled.mechanisms=$KAFKA_SASL_ENABLED_MECHANISMS
sasl.mechanism.inter.broker.protocol=$KAFKA_SASL_MECHANISM_INTER_BROKER_PROTOCOL
log.dirs=$KAFKA_LOG_DIRS
PROPS
  # shellcheck disable=SC2086 # $scram is a list of arguments
  /opt/kafka/bin/kafka-storage.sh format -t "$CLUSTER_ID" -c /tmp/format.properties $scram
fi
jaas="org.apache.kafka.common.security.scram.ScramLoginModule required"
export KAFKA_LISTENER_NAME_INTERNAL_SCRAM___SHA___512_SASL_JAAS_CONFIG="$jaas username=\"mlops-admin\" password=\"$admin_password\";"
export KAFKA_LISTENER_NAME_HOST_SCRAM___SHA___512_SASL_JAAS_CONFIG="$jaas;"
# The healthcheck's client settings.
umask 077
printf '%s\n' 'security.protocol=SASL_PLAINTEXT' 'sasl.mechanism=SCRAM-SHA-512' \
  "sasl.jaas.config=$jaas username=\"mlops-admin\" password=\"$admin_password\";" >/tmp/mlops-admin.properties
exec /etc/kafka/docker/run
