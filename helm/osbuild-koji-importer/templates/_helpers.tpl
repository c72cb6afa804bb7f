{{- define "importer.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The image of this chart's release unless values pin another tag: appVersion is package.json's version. */}}
{{- define "importer.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "importer.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "importer.labels" -}}
{{ include "importer.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* KOJI_HUBS: the configured hubs, pointing at their mounted credential files. */}}
{{- define "importer.kojiHubs" -}}
{{- $hubs := list -}}
{{- range $i, $hub := .Values.kojiHubs -}}
{{- $dir := printf "/var/run/secrets/koji/%d" $i -}}
{{- if eq $hub.auth "gssapi" -}}
{{- $hubs = append $hubs (dict "url" $hub.url "auth" "gssapi" "principal" $hub.principal "keytab_file" (printf "%s/keytab" $dir) "ca_file" (printf "%s/ca.crt" $dir)) -}}
{{- else -}}
{{- $hubs = append $hubs (dict "url" $hub.url "auth" "ssl" "cert_file" (printf "%s/tls.crt" $dir) "key_file" (printf "%s/tls.key" $dir) "ca_file" (printf "%s/ca.crt" $dir)) -}}
{{- end -}}
{{- end -}}
{{- toJson $hubs -}}
{{- end -}}

{{/* Environment shared by the pods and the migration Job: the ConfigMap, and secrets as files. */}}
{{- define "importer.env" -}}
- name: DATABASE_URL_FILE
  value: /var/run/secrets/importer/database-url
- name: AMQP_URL_FILE
  value: /var/run/secrets/importer/amqp-url
{{- if .Values.secrets.composerClientSecret.name }}
- name: COMPOSER_CLIENT_SECRET_FILE
  value: /var/run/secrets/importer/composer-client-secret
{{- end }}
{{- if .Values.secrets.adminToken.name }}
- name: ADMIN_TOKEN_FILE
  value: /var/run/secrets/importer/admin-token
{{- end }}
{{- if .Values.secrets.composerClientCert.name }}
- name: COMPOSER_CERT_FILE
  value: /var/run/secrets/composer/tls.crt
- name: COMPOSER_KEY_FILE
  value: /var/run/secrets/composer/tls.key
{{- end }}
{{- if .Values.kerberos.krb5ConfigMap }}
- name: KRB5_CONFIG
  value: /etc/osbuild-koji-importer/krb5/krb5.conf
{{- end }}
{{- end -}}

{{- define "importer.volumes" -}}
- name: tmp
  emptyDir: {}
- name: importer-secrets
  projected:
    sources:
      - secret:
          name: {{ .Values.secrets.databaseUrl.name }}
          items: [{ key: {{ .Values.secrets.databaseUrl.key }}, path: database-url }]
      - secret:
          name: {{ .Values.secrets.amqpUrl.name }}
          items: [{ key: {{ .Values.secrets.amqpUrl.key }}, path: amqp-url }]
      {{- if .Values.secrets.composerClientSecret.name }}
      - secret:
          name: {{ .Values.secrets.composerClientSecret.name }}
          items: [{ key: {{ .Values.secrets.composerClientSecret.key }}, path: composer-client-secret }]
      {{- end }}
      {{- if .Values.secrets.adminToken.name }}
      - secret:
          name: {{ .Values.secrets.adminToken.name }}
          items: [{ key: {{ .Values.secrets.adminToken.key }}, path: admin-token }]
      {{- end }}
{{- if .Values.secrets.composerClientCert.name }}
- name: composer-cert
  secret:
    secretName: {{ .Values.secrets.composerClientCert.name }}
{{- end }}
{{- range $i, $hub := .Values.kojiHubs }}
- name: koji-{{ $i }}
  secret:
    secretName: {{ $hub.secretName }}
{{- end }}
{{- if .Values.kerberos.krb5ConfigMap }}
- name: krb5-config
  configMap:
    name: {{ .Values.kerberos.krb5ConfigMap }}
    items: [{ key: krb5.conf, path: krb5.conf }]
{{- end }}
{{- end -}}

{{- define "importer.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: importer-secrets
  mountPath: /var/run/secrets/importer
  readOnly: true
{{- if .Values.secrets.composerClientCert.name }}
- name: composer-cert
  mountPath: /var/run/secrets/composer
  readOnly: true
{{- end }}
{{- range $i, $hub := .Values.kojiHubs }}
- name: koji-{{ $i }}
  mountPath: /var/run/secrets/koji/{{ $i }}
  readOnly: true
{{- end }}
{{- if .Values.kerberos.krb5ConfigMap }}
- name: krb5-config
  mountPath: /etc/osbuild-koji-importer/krb5
  readOnly: true
{{- end }}
{{- end -}}
