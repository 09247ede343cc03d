{{/* Ingress settings KubeSphere passes to extensions, or an empty dict. */}}
{{- define "entry.ingress" -}}
{{- dig "global" "extension" "ingress" (dict) .Values.AsMap | toJson -}}
{{- end }}

{{/* Address of the application in the user's browser. */}}
{{- define "entry.url" -}}
{{- if .Values.url -}}
{{ .Values.url }}
{{- else -}}
{{- $ing := include "entry.ingress" . | fromJson -}}
http://{{ .Release.Name }}.{{ $ing.domainSuffix }}{{ with $ing.httpPort }}:{{ . }}{{ end }}
{{- end -}}
{{- end }}

{{- define "entry.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
{{- end }}
