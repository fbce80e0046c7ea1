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

// StatusWebhookName is the webhook that receives status updates which
// change metadata (see MetadataChanged).
const StatusWebhookName = "metadata.validate.charter.dev"

// FailOpenRisk says why failurePolicy Ignore needs an explicit opt-in.
const FailOpenRisk = "failure policy Ignore admits, unchecked, every request the webhook does not answer: " +
	"while it is down, restarting or slower than timeoutSeconds, and any review it cannot read. " +
	"An attacker who can make a request slow or large gets it admitted. Use Fail (the default) and " +
	"keep the webhook available (replicas, PodDisruptionBudget); pass --i-understand-fail-open only " +
	"if availability matters more than enforcement here"

// ConfigOptions describe the ValidatingWebhookConfiguration to print.
type ConfigOptions struct {
	Name      string // object name; "charter" when empty
	Service   string // the webhook Service, unless URL is set
	Namespace string // the Service's namespace, also excluded from admission
	Port      int32  // the Service port; 443 when zero
	URL       string // register by URL instead of Service (e2e, out-of-cluster)
	CABundle  []byte // PEM CA that signed the serving certificate
	// FailurePolicy is Fail unless set to Ignore: an unreachable webhook
	// denies rather than letting unchecked objects in. Ignore is refused
	// unless AcceptFailOpen (see FailOpenRisk).
	FailurePolicy     string
	AcceptFailOpen    bool
	TimeoutSeconds    int32    // 3 when zero
	ExcludeNamespaces []string // DefaultExcludeNamespaces when nil; Namespace is always added
	Rules             Rules    // RulesFor the bundle to enforce; required
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
	if len(o.Rules.Main) == 0 && len(o.Rules.Status) == 0 {
		return nil, errors.New("webhook configuration: no rules; derive them from the bundle to enforce, whose articles name no kinds")
	}
	policy := admissionregistrationv1.Fail
	switch o.FailurePolicy {
	case "", "Fail":
	case "Ignore":
		if !o.AcceptFailOpen {
			return nil, errors.New("webhook configuration: " + FailOpenRisk)
		}
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
	hook := func(name string, rules []admissionregistrationv1.RuleWithOperations) admissionregistrationv1.ValidatingWebhook {
		return admissionregistrationv1.ValidatingWebhook{
			Name:                    name,
			ClientConfig:            cc,
			Rules:                   rules,
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
		}
	}
	var hooks []admissionregistrationv1.ValidatingWebhook
	if len(o.Rules.Main) > 0 {
		hooks = append(hooks, hook(WebhookName, o.Rules.Main))
	}
	if len(o.Rules.Status) > 0 {
		h := hook(StatusWebhookName, o.Rules.Status)
		h.MatchConditions = []admissionregistrationv1.MatchCondition{{Name: "metadata-changed", Expression: MetadataChanged}}
		hooks = append(hooks, h)
	}
	return &admissionregistrationv1.ValidatingWebhookConfiguration{
		TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "ValidatingWebhookConfiguration"},
		ObjectMeta: metav1.ObjectMeta{Name: o.Name, Labels: map[string]string{"app.kubernetes.io/name": "charter-webhook"}},
		Webhooks:   hooks,
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
