{{/* The Job's image: global.imageRegistry wins over kubectl.image.registry. */}}
{{- define "base.kubectlImage" -}}
{{- $img := .Values.kubectl.image -}}
{{- $registry := .Values.global.imageRegistry | default $img.registry -}}
{{- printf "%s/%s:%s" $registry $img.repository $img.tag -}}
{{- end }}

{{- define "base.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
{{- end }}
