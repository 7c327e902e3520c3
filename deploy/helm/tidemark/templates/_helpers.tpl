{{/* Names: <release>-tidemark-<service>, cut to 63 characters. */}}
{{- define "tidemark.fullname" -}}
{{- if contains "tidemark" .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-tidemark" .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "tidemark.serviceName" -}}
{{- printf "%s-%s" (include "tidemark.fullname" .root) .service | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tidemark.labels" -}}
app.kubernetes.io/name: tidemark
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "tidemark.selectorLabels" -}}
app.kubernetes.io/name: tidemark
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .service }}
{{- end -}}

{{- define "tidemark.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "tidemark.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The image by digest when one is given, else by its exact tag (never `latest`). */}}
{{- define "tidemark.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- if or (not .Values.image.tag) (eq (toString .Values.image.tag) "latest") -}}
{{- fail "image.tag must be an exact version (not empty, not latest), or set image.digest" -}}
{{- end -}}
{{- printf "%s:%s" .Values.image.repository (toString .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The environment variable prefix of a service: sla-timer -> TIDEMARK_SLA_TIMER_ */}}
{{- define "tidemark.envPrefix" -}}
{{- printf "TIDEMARK_%s_" (. | upper | replace "-" "_") -}}
{{- end -}}

{{/*
Kafka connection variables of one client. `prefix` is the client's own prefix
(TIDEMARK_<SERVICE>_ or TIDEMARK_TOPICS_), so its SASL user is its own; `user` is the key
stem in the SASL Secret (the service name), or "" for the admin Secret's username/password.
*/}}
{{- define "tidemark.kafkaEnv" -}}
{{- $v := .root.Values -}}
- name: TIDEMARK_KAFKA_BOOTSTRAP
  value: {{ required "kafka.bootstrapServers is required" $v.kafka.bootstrapServers | quote }}
- name: TIDEMARK_KAFKA_SECURITY_PROTOCOL
  value: {{ $v.kafka.securityProtocol | quote }}
{{- if $v.kafka.topicNamespace }}
- name: TIDEMARK_TOPIC_NAMESPACE
  value: {{ $v.kafka.topicNamespace | quote }}
{{- end }}
{{- if eq $v.kafka.securityProtocol "SASL_SSL" }}
- name: TIDEMARK_KAFKA_SASL_MECHANISM
  value: {{ $v.kafka.saslMechanism | quote }}
{{- if .user }}
- name: {{ .prefix }}KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ required "kafka.sasl.existingSecret is required with SASL_SSL" $v.kafka.sasl.existingSecret }}
      key: {{ .user }}-username
- name: {{ .prefix }}KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $v.kafka.sasl.existingSecret }}
      key: {{ .user }}-password
{{- else }}
- name: {{ .prefix }}KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ required "topics.adminSecret is required with SASL_SSL" $v.topics.adminSecret }}
      key: username
- name: {{ .prefix }}KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $v.topics.adminSecret }}
      key: password
{{- end }}
{{- end }}
{{- if and (ne $v.kafka.securityProtocol "PLAINTEXT") $v.kafka.tls.caSecret }}
- name: TIDEMARK_KAFKA_SSL_CAFILE
  value: /etc/tidemark/kafka-ca/{{ $v.kafka.tls.caKey }}
{{- end }}
{{- if .clientCert }}
- name: {{ .prefix }}KAFKA_SSL_CERTFILE
  value: /etc/tidemark/kafka-client/tls.crt
- name: {{ .prefix }}KAFKA_SSL_KEYFILE
  value: /etc/tidemark/kafka-client/tls.key
{{- end }}
{{- end -}}

{{/*
The operator's policy and rules files a service reads, as YAML {setting env name: key in the
<fullname>-policy ConfigMap}; only those set (values policy.content, rules.*). Every service
but the notifier reads the support policy; each rules file has one reader.
*/}}
{{- define "tidemark.policyFiles" -}}
{{- $v := .root.Values -}}
{{- $prefix := include "tidemark.envPrefix" .service -}}
{{- if and $v.policy.content (has .service (list "intake" "classifier" "sla-timer" "escalation")) }}
{{ $prefix }}POLICY_FILE: policy.yaml
{{- end }}
{{- if and $v.rules.classifier (eq .service "classifier") }}
TIDEMARK_CLASSIFIER_RULES_FILE: classifier-rules.yaml
{{- end }}
{{- if and $v.rules.escalation (eq .service "escalation") }}
TIDEMARK_ESCALATION_RULES_FILE: escalation-rules.yaml
{{- end }}
{{- end -}}

{{/* The <fullname>-policy ConfigMap's data, as JSON: the files set in values, by key. */}}
{{- define "tidemark.policyData" -}}
{{- $data := dict -}}
{{- with .Values.policy.content }}{{ $_ := set $data "policy.yaml" . }}{{ end -}}
{{- with .Values.rules.classifier }}{{ $_ := set $data "classifier-rules.yaml" . }}{{ end -}}
{{- with .Values.rules.escalation }}{{ $_ := set $data "escalation-rules.yaml" . }}{{ end -}}
{{- /* JSON: toYaml would drop the last file's final newline (helm trims its output). */ -}}
{{- toJson $data -}}
{{- end -}}

{{/* Volumes for /tmp, the policy ConfigMap (`policyFiles` non-empty) and the CA / client certificate Secrets; `clientCert` a Secret name. */}}
{{- define "tidemark.volumes" -}}
{{- $v := .root.Values -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- if and (ne $v.kafka.securityProtocol "PLAINTEXT") $v.kafka.tls.caSecret }}
- name: kafka-ca
  secret:
    secretName: {{ $v.kafka.tls.caSecret }}
{{- end }}
{{- if .clientCert }}
- name: kafka-client
  secret:
    secretName: {{ .clientCert }}
{{- end }}
{{- if $v.database.caSecret }}
- name: postgres-ca
  secret:
    secretName: {{ $v.database.caSecret }}
{{- end }}
{{- if .policyFiles }}
- name: policy
  configMap:
    name: {{ include "tidemark.fullname" .root }}-policy
{{- end }}
{{- end -}}

{{- define "tidemark.volumeMounts" -}}
{{- $v := .root.Values -}}
- name: tmp
  mountPath: /tmp
{{- if and (ne $v.kafka.securityProtocol "PLAINTEXT") $v.kafka.tls.caSecret }}
- name: kafka-ca
  mountPath: /etc/tidemark/kafka-ca
  readOnly: true
{{- end }}
{{- if .clientCert }}
- name: kafka-client
  mountPath: /etc/tidemark/kafka-client
  readOnly: true
{{- end }}
{{- if $v.database.caSecret }}
- name: postgres-ca
  mountPath: /etc/tidemark/postgres-ca
  readOnly: true
{{- end }}
{{- if .policyFiles }}
- name: policy
  mountPath: /etc/tidemark/policy
  readOnly: true
{{- end }}
{{- end -}}
