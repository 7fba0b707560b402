{{/* Chart name, truncated to the 63 characters a DNS label allows. */}}
{{- define "astraguard.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-scoped name of the service's objects. */}}
{{- define "astraguard.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* Name of the model server's objects. */}}
{{- define "astraguard.modelName" -}}
{{- printf "%s-model" (include "astraguard.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "astraguard.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/part-of: astraguard
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}

{{- define "astraguard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "astraguard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: service
{{- end }}

{{- define "astraguard.modelSelectorLabels" -}}
app.kubernetes.io/name: {{ include "astraguard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: model
{{- end }}
