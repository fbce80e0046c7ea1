package webhook

import (
	"errors"
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// WebhookName is the webhook's name in the ValidatingWebhookConfiguration.
// The apiserver prefixes audit annotation keys with it.
const WebhookName = "validate.charter.dev"

// DefaultRules send the workload kinds a charter's Pod rules cover (pods
// and every kind with a pod template), plus the Services and Ingresses the
// default charter governs, to the webhook on CREATE and UPDATE. DELETE and
// CONNECT are left out: the webhook admits them without evaluation.
var DefaultRules = []admissionregistrationv1.RuleWithOperations{
	rule([]string{""}, "pods", "pods/ephemeralcontainers", "podtemplates", "replicationcontrollers", "services"),
	rule([]string{"apps"}, "deployments", "replicasets", "statefulsets", "daemonsets"),
	rule([]string{"batch"}, "jobs", "cronjobs"),
	rule([]string{"networking.k8s.io"}, "ingresses"),
}

func rule(groups []string, resources ...string) admissionregistrationv1.RuleWithOperations {
	scope := admissionregistrationv1.AllScopes
	return admissionregistrationv1.RuleWithOperations{
		Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
		Rule:       admissionregistrationv1.Rule{APIGroups: groups, APIVersions: []string{"*"}, Resources: resources, Scope: &scope},
	}
}

// ConfigOptions describe the ValidatingWebhookConfiguration to print.
type ConfigOptions struct {
	Name      string // object name; "charter" when empty
	Service   string // the webhook Service, unless URL is set
	Namespace string // the Service's namespace, also excluded from admission
	Port      int32  // the Service port; 443 when zero
	URL       string // register by URL instead of Service (e2e, out-of-cluster)
	CABundle  []byte // PEM CA that signed the serving certificate
	// FailurePolicy is Fail unless set to Ignore: an unreachable webhook
	// denies rather than letting unchecked objects in.
	FailurePolicy     string
	TimeoutSeconds    int32    // 3 when zero
	ExcludeNamespaces []string // DefaultExcludeNamespaces when nil; Namespace is always added
	Rules             []admissionregistrationv1.RuleWithOperations
}

// Config builds the ValidatingWebhookConfiguration for o.
func Config(o ConfigOptions) (*admissionregistrationv1.ValidatingWebhookConfiguration, error) {
	if len(o.CABundle) == 0 {
		return nil, errors.New("webhook configuration: a caBundle is required")
	}
	if o.URL == "" && (o.Service == "" || o.Namespace == "") {
		return nil, errors.New("webhook configuration: a service and namespace, or a URL, are required")
	}
	if o.Name == "" {
		o.Name = "charter"
	}
	if o.Port == 0 {
		o.Port = 443
	}
	if o.TimeoutSeconds == 0 {
		o.TimeoutSeconds = 3
	}
	if o.ExcludeNamespaces == nil {
		o.ExcludeNamespaces = DefaultExcludeNamespaces
	}
	if o.Rules == nil {
		o.Rules = DefaultRules
	}
	policy := admissionregistrationv1.Fail
	switch o.FailurePolicy {
	case "", "Fail":
	case "Ignore":
		policy = admissionregistrationv1.Ignore
	default:
		return nil, fmt.Errorf("webhook configuration: failure policy %q is not Fail or Ignore", o.FailurePolicy)
	}
	exclude := append([]string(nil), o.ExcludeNamespaces...)
	if o.Namespace != "" && !contains(exclude, o.Namespace) {
		exclude = append(exclude, o.Namespace)
	}
	cc := admissionregistrationv1.WebhookClientConfig{CABundle: o.CABundle}
	if o.URL != "" {
		url := o.URL
		cc.URL = &url
	} else {
		path := "/validate"
		cc.Service = &admissionregistrationv1.ServiceReference{Namespace: o.Namespace, Name: o.Service, Path: &path, Port: &o.Port}
	}
	sideEffects := admissionregistrationv1.SideEffectClassNone
	match := admissionregistrationv1.Equivalent
	return &admissionregistrationv1.ValidatingWebhookConfiguration{
		TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "ValidatingWebhookConfiguration"},
		ObjectMeta: metav1.ObjectMeta{Name: o.Name, Labels: map[string]string{"app.kubernetes.io/name": "charter-webhook"}},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:                    WebhookName,
			ClientConfig:            cc,
			Rules:                   o.Rules,
			FailurePolicy:           &policy,
			MatchPolicy:             &match,
			SideEffects:             &sideEffects,
			TimeoutSeconds:          &o.TimeoutSeconds,
			AdmissionReviewVersions: []string{"v1"},
			// Namespaces are matched by the label the apiserver sets on every
			// namespace; object labels are never an exemption, users set them.
			NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
				Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpNotIn, Values: exclude,
			}}},
		}},
	}, nil
}

// ConfigYAML renders Config(o) as YAML.
func ConfigYAML(o ConfigOptions) ([]byte, error) {
	c, err := Config(o)
	if err != nil {
		return nil, err
	}
	return yaml.Marshal(c)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
