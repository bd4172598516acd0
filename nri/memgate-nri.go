// SPDX-License-Identifier: GPL-2.0-only

// memgate-nri: an NRI plugin that wires memgate's OCI hook into the
// containers that ask for a policy, on runtimes with NRI (containerd 2.x,
// CRI-O 1.30+), with no change to the runtime's configuration.
//
// For a container whose pod or container annotations carry any memgate.io/
// key (or for every container with --always), it adds memgate-hook at
// createRuntime and poststop, and copies the pod's memgate.io/ annotations
// that the container lacks into its spec, where the hook reads them.
// Everything else, policy included, stays in the hook: this program only
// decides whether the hook runs.  It keeps no state, and reconnects when the
// runtime restarts.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"time"

	"github.com/containerd/nri/pkg/api"
	"github.com/containerd/nri/pkg/stub"
	"github.com/sirupsen/logrus"
)

const prefix = "memgate.io/"

// memgate-hook's installed path; the Makefile sets it from PREFIX.
var defaultHook = "/usr/libexec/oci/hooks.d/memgate-hook"

type plugin struct {
	hook   string
	always bool
}

func hasMemgateKey(m map[string]string) bool {
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// hasHook: the container already runs hook at some stage (a base spec that
// carries it): adding it again would run it twice.
func hasHook(h *api.Hooks, hook string) bool {
	if h == nil {
		return false
	}
	for _, list := range [][]*api.Hook{h.Prestart, h.CreateRuntime, h.CreateContainer,
		h.StartContainer, h.Poststart, h.Poststop} {
		for _, x := range list {
			if x.GetPath() == hook {
				return true
			}
		}
	}
	return false
}

// CreateContainer is the only event memgate-nri subscribes to.  Pod sandboxes
// never reach it.  Annotation keys and values are the tenant's: they are
// copied, never interpreted or logged here; the hook parses them.
func (p *plugin) CreateContainer(_ context.Context, pod *api.PodSandbox, ctr *api.Container) (*api.ContainerAdjustment, []*api.ContainerUpdate, error) {
	podAnn, ctrAnn := pod.GetAnnotations(), ctr.GetAnnotations()
	if !p.always && !hasMemgateKey(podAnn) && !hasMemgateKey(ctrAnn) {
		return nil, nil, nil
	}
	if hasHook(ctr.GetHooks(), p.hook) {
		return nil, nil, nil
	}
	adj := &api.ContainerAdjustment{}
	for k, v := range podAnn {
		if _, own := ctrAnn[k]; strings.HasPrefix(k, prefix) && !own {
			adj.AddAnnotation(k, v)
		}
	}
	adj.AddHooks(&api.Hooks{
		CreateRuntime: []*api.Hook{{Path: p.hook, Args: []string{"memgate-hook", "createRuntime"}}},
		Poststop:      []*api.Hook{{Path: p.hook, Args: []string{"memgate-hook", "poststop"}}},
	})
	return adj, nil, nil
}

// Configure logs each (re)connection: the runtime's name and version are
// the admin's, not a tenant's.
func (p *plugin) Configure(_ context.Context, _, runtime, version string) (api.EventMask, error) {
	log.Printf("registered with %s %s", runtime, version)
	return 0, nil
}

const usage = "usage: memgate-nri [--socket PATH] [--hook PATH] [--idx NN] [--always]"

func main() {
	p := &plugin{}
	log.SetFlags(0)
	log.SetPrefix("memgate-nri: ")
	// The NRI library's info lines come two per connection attempt: keep
	// its warnings and errors only.
	logrus.SetLevel(logrus.WarnLevel)
	fs := flag.NewFlagSet("memgate-nri", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	socket := fs.String("socket", api.DefaultSocketPath, "the runtime's NRI socket")
	fs.StringVar(&p.hook, "hook", defaultHook, "memgate-hook's path on the node")
	idx := fs.String("idx", "50", "the plugin's NRI index (two digits): its place among plugins")
	fs.BoolVar(&p.always, "always", false, "add the hook to every container, so admin defaults reach all")
	if err := fs.Parse(os.Args[1:]); errors.Is(err, flag.ErrHelp) {
		fmt.Println(usage)
		fs.SetOutput(os.Stdout)
		fs.PrintDefaults()
		os.Exit(0)
	} else if err != nil {
		log.Printf("%v (%s)", err, usage)
		os.Exit(2)
	}
	if fs.NArg() != 0 {
		log.Printf("unexpected argument %q (expected only options)", fs.Arg(0))
		os.Exit(2)
	}
	if len(*idx) != 2 || strings.Trim(*idx, "0123456789") != "" {
		log.Printf("--idx %q: expected two digits, such as 50", *idx)
		os.Exit(2)
	}
	if !strings.HasPrefix(p.hook, "/") {
		log.Printf("--hook %q: expected an absolute path", p.hook)
		os.Exit(2)
	}
	if _, err := os.Stat(p.hook); err != nil {
		log.Printf("--hook %q: %v (expected memgate-hook installed there)", p.hook, err)
		os.Exit(1)
	}

	// One stub per connection: a stub does not restart.  A runtime that is
	// down or restarting is waited for, one attempt a second; only the
	// first failure of a run of them is logged.
	failing := false
	for {
		s, err := stub.New(p, stub.WithPluginName("memgate"), stub.WithPluginIdx(*idx),
			stub.WithSocketPath(*socket), stub.WithOnClose(func() {}))
		if err != nil {
			log.Printf("cannot create the NRI stub: %v", err)
			os.Exit(1)
		}
		err = s.Run(context.Background())
		s.Stop()
		if err == nil {
			log.Printf("%s: connection closed; reconnecting", *socket)
		} else if !failing {
			log.Printf("%s: %v; retrying every second", *socket, err)
		}
		failing = err != nil
		time.Sleep(time.Second)
	}
}
