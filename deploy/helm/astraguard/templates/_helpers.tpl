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

{{/*
Connection-limit flags from a connections map (values connections and
model.connections; both binaries take the same four flags with the same
defaults): one flag per key that is set; an unset (null) key
keeps the binary's own default. Numbers are rendered as integers (YAML
numbers reach templates as floats, which print 1e+06).
*/}}
{{- define "astraguard.connectionArgs" -}}
{{- $c := . | default dict }}
{{- range $key, $flag := dict "max" "max-connections" "maxPerClient" "max-connections-per-client" "maxIdle" "max-connection-idle" "maxConcurrentStreams" "max-concurrent-streams" }}
{{- $v := index $c $key }}
{{- if not (kindIs "invalid" $v) }}
- --{{ $flag }}={{ if kindIs "float64" $v }}{{ int64 $v }}{{ else }}{{ $v }}{{ end }}
{{- end }}
{{- end }}
{{- end }}
