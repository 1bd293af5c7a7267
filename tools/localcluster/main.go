// Command localcluster is a multi-call binary holding the Kubernetes control plane used by paved's
// local cluster: etcd (embedded), kube-apiserver, kube-controller-manager and kube-scheduler, and
// kubectl of the same version. One binary instead of five saves four multi-minute links on a cold
// build; each component still runs as its own process (the first argument names it), exactly as in
// a real cluster. Called through a link named kubectl, it is kubectl.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"go.etcd.io/etcd/server/v3/embed"
	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	kubectl "k8s.io/kubectl/pkg/cmd"
	kubectlutil "k8s.io/kubectl/pkg/cmd/util"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"

	// kubectl's client auth plugins (exec, oidc), as in the upstream kubectl binary.
	_ "k8s.io/client-go/plugin/pkg/client/auth"
)

func main() {
	if filepath.Base(os.Args[0]) == "kubectl" {
		os.Exit(runKubectl())
	}
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: localcluster etcd|kube-apiserver|kube-controller-manager|kube-scheduler|kubectl [flags]")
		os.Exit(2)
	}
	component := os.Args[1]
	os.Args = append([]string{component}, os.Args[2:]...)
	switch component {
	case "kubectl":
		os.Exit(runKubectl())
	case "etcd":
		os.Exit(runEtcd(os.Args[1:]))
	case "kube-apiserver":
		os.Exit(cli.Run(apiserver.NewAPIServerCommand()))
	case "kube-controller-manager":
		os.Exit(cli.Run(controllermanager.NewControllerManagerCommand()))
	case "kube-scheduler":
		os.Exit(cli.Run(scheduler.NewSchedulerCommand()))
	default:
		fmt.Fprintf(os.Stderr, "localcluster: unknown component %q\n", component)
		os.Exit(2)
	}
}

// runKubectl is upstream's cmd/kubectl main: os.Args[0] is "kubectl" and the rest its arguments.
func runKubectl() int {
	// The verbosity is set before the command is built, as upstream does, so that klog works while
	// plugins and .kuberc are read.
	logs.GlogSetter(kubectl.GetLogVerbosity(os.Args)) // nolint:errcheck
	if err := cli.RunNoErrOutput(kubectl.NewDefaultKubectlCommand()); err != nil {
		kubectlutil.CheckErr(err) // prints the error the way kubectl does and exits non-zero
	}
	return 0
}

// runEtcd starts a single-member etcd. Flags: --data-dir DIR --client-url URL --peer-url URL.
func runEtcd(args []string) int {
	cfg := embed.NewConfig()
	cfg.Name = "paved"
	cfg.LogLevel = "warn"
	cfg.UnsafeNoFsync = true // a throwaway test store: durability is not worth the fsync latency
	for i := 0; i+1 < len(args); i += 2 {
		switch args[i] {
		case "--data-dir":
			cfg.Dir = args[i+1]
		case "--client-url":
			u, err := parseURL(args[i+1])
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 2
			}
			cfg.ListenClientUrls, cfg.AdvertiseClientUrls = u, u
		case "--peer-url":
			u, err := parseURL(args[i+1])
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 2
			}
			cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = u, u
			cfg.InitialCluster = cfg.Name + "=" + args[i+1]
		default:
			fmt.Fprintf(os.Stderr, "etcd: unknown flag %s\n", args[i])
			return 2
		}
	}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "etcd: %v\n", err)
		return 1
	}
	defer e.Close()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	select {
	case <-e.Server.ReadyNotify():
		fmt.Fprintln(os.Stderr, "etcd: ready")
	case <-stop:
		return 0
	}
	select {
	case err := <-e.Err():
		fmt.Fprintf(os.Stderr, "etcd: %v\n", err)
		return 1
	case <-stop:
		return 0
	}
}
