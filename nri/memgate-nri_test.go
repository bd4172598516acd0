// SPDX-License-Identifier: GPL-2.0-only

// What memgate-nri asks of the runtime for one container: run by
// test/host/nri.bats through `nri/build --test`.
package main

import (
	"context"
	"reflect"
	"testing"

	"github.com/containerd/nri/pkg/api"
)

const hook = "/usr/libexec/oci/hooks.d/memgate-hook"

func create(t *testing.T, p *plugin, pod, ctr map[string]string, hooks *api.Hooks) *api.ContainerAdjustment {
	t.Helper()
	adj, upd, err := p.CreateContainer(context.Background(),
		&api.PodSandbox{Annotations: pod}, &api.Container{Annotations: ctr, Hooks: hooks})
	if err != nil || upd != nil {
		t.Fatalf("CreateContainer: updates %v, error %v (expected neither)", upd, err)
	}
	return adj
}

func wantHooks(t *testing.T, adj *api.ContainerAdjustment) {
	t.Helper()
	if adj == nil || adj.Hooks == nil {
		t.Fatalf("no hooks added (expected createRuntime and poststop)")
	}
	h := adj.Hooks
	if len(h.Prestart)+len(h.CreateContainer)+len(h.StartContainer)+len(h.Poststart) != 0 ||
		len(h.CreateRuntime) != 1 || len(h.Poststop) != 1 {
		t.Fatalf("hooks %v: expected one at createRuntime and one at poststop", h)
	}
	if h.CreateRuntime[0].Path != hook || !reflect.DeepEqual(h.CreateRuntime[0].Args, []string{"memgate-hook", "createRuntime"}) ||
		h.Poststop[0].Path != hook || !reflect.DeepEqual(h.Poststop[0].Args, []string{"memgate-hook", "poststop"}) {
		t.Fatalf("hooks %v: expected %s with its stage as argument", h, hook)
	}
}

func TestUnannotatedUntouched(t *testing.T) {
	p := &plugin{hook: hook}
	if adj := create(t, p, map[string]string{"kubernetes.io/config.source": "api", "memgate.io": "x"},
		map[string]string{"io.kubernetes.cri.container-name": "app", "memgate.iox/commit-limit": "1Gi"}, nil); adj != nil {
		t.Fatalf("adjusted %v (expected nothing: no memgate.io/ key)", adj)
	}
}

func TestPodAnnotationsCopied(t *testing.T) {
	p := &plugin{hook: hook}
	adj := create(t, p, map[string]string{"memgate.io/commit-limit": "64Mi", "memgate.io/commit-limit.big": "128Mi",
		"other": "x"}, map[string]string{"io.kubernetes.cri.container-name": "big"}, nil)
	wantHooks(t, adj)
	want := map[string]string{"memgate.io/commit-limit": "64Mi", "memgate.io/commit-limit.big": "128Mi"}
	if !reflect.DeepEqual(adj.Annotations, want) {
		t.Fatalf("annotations %v, expected exactly %v", adj.Annotations, want)
	}
}

// The container's own value (containerd's container_annotations) is kept.
func TestContainerAnnotationWins(t *testing.T) {
	p := &plugin{hook: hook}
	adj := create(t, p, map[string]string{"memgate.io/commit-limit": "64Mi"},
		map[string]string{"memgate.io/commit-limit": "32Mi"}, nil)
	wantHooks(t, adj)
	if len(adj.Annotations) != 0 {
		t.Fatalf("annotations %v, expected none (the container sets the key)", adj.Annotations)
	}
}

func TestAlways(t *testing.T) {
	p := &plugin{hook: hook, always: true}
	adj := create(t, p, nil, map[string]string{"io.kubernetes.cri.container-name": "app"}, nil)
	wantHooks(t, adj)
	if len(adj.Annotations) != 0 {
		t.Fatalf("annotations %v, expected none", adj.Annotations)
	}
}

// A spec that already runs memgate-hook (a base_runtime_spec) is left alone.
func TestNoSecondHook(t *testing.T) {
	p := &plugin{hook: hook}
	have := &api.Hooks{CreateRuntime: []*api.Hook{{Path: hook, Args: []string{"memgate-hook", "createRuntime"}}}}
	if adj := create(t, p, map[string]string{"memgate.io/commit-limit": "64Mi"}, nil, have); adj != nil {
		t.Fatalf("adjusted %v (expected nothing: the hook is there)", adj)
	}
	other := &api.Hooks{Prestart: []*api.Hook{{Path: "/usr/bin/other-hook"}}}
	wantHooks(t, create(t, p, map[string]string{"memgate.io/commit-limit": "64Mi"}, nil, other))
}
