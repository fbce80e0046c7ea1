# Webhook e2e: kube-apiserver, etcd, kubectl (renders and dry-runs deploy/) and the upstream Pod Security Admission
# webhook, built from the pinned tools/kube module into bin/. Each binary is
# rebuilt only when tools/kube/go.mod or go.sum is newer, so CI builds them
# once (about 7 minutes on 2 cores for kube-apiserver) and the Go build cache
# makes a rebuild cheap. `go test ./...` then runs test/e2e against them.

KUBE_TOOLS := tools/kube
KUBE_VERSION := $(shell awk '$$1 == "k8s.io/kubernetes" { print $$2 }' $(KUBE_TOOLS)/go.mod)
KUBE_LDFLAGS := -X k8s.io/component-base/version.gitVersion=$(KUBE_VERSION) \
	-X k8s.io/component-base/version.gitMajor=$(word 1,$(subst ., ,$(patsubst v%,%,$(KUBE_VERSION)))) \
	-X k8s.io/component-base/version.gitMinor=$(word 2,$(subst ., ,$(KUBE_VERSION)))
E2E_BINS := $(BIN)/kube-apiserver $(BIN)/etcd $(BIN)/kubectl $(BIN)/pod-security-webhook

.PHONY: e2e-tools test-e2e

tools:: e2e-tools

e2e-tools: $(E2E_BINS)

$(BIN)/kube-apiserver: $(KUBE_TOOLS)/go.mod $(KUBE_TOOLS)/go.sum
	@mkdir -p $(BIN)
	@echo "e2e: building kube-apiserver $(KUBE_VERSION) (first build takes minutes)"
	cd $(KUBE_TOOLS) && $(GO) build -ldflags '$(KUBE_LDFLAGS)' -o $@ k8s.io/kubernetes/cmd/kube-apiserver

$(BIN)/kubectl: $(KUBE_TOOLS)/go.mod $(KUBE_TOOLS)/go.sum
	@mkdir -p $(BIN)
	cd $(KUBE_TOOLS) && $(GO) build -ldflags '$(KUBE_LDFLAGS)' -o $@ k8s.io/kubernetes/cmd/kubectl

$(BIN)/etcd: $(KUBE_TOOLS)/go.mod $(KUBE_TOOLS)/go.sum
	@mkdir -p $(BIN)
	cd $(KUBE_TOOLS) && $(GO) build -o $@ go.etcd.io/etcd/server/v3

$(BIN)/pod-security-webhook: $(KUBE_TOOLS)/go.mod $(KUBE_TOOLS)/go.sum
	@mkdir -p $(BIN)
	cd $(KUBE_TOOLS) && $(GO) build -ldflags '$(KUBE_LDFLAGS)' -o $@ k8s.io/pod-security-admission/cmd/webhook

# The e2e suite alone, verbose (it also runs within `go test ./...`).
test-e2e: e2e-tools
	$(GO) test -count=1 -v ./test/e2e/...
