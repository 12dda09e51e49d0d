// Assembles Weft's operator image from layer tarballs with go-containerregistry (the library ko builds Go images
// with): no Docker daemon, OCI media types, a fixed creation time, so the same layers give the same digest. Writes
// an OCI image layout; hack/image/build.sh archives it (oci-archive), which `kind load image-archive`, skopeo and
// crane accept.
//
//	go run . --layer base.tar --layer node.tar --layer app.tar --out layout/ --ref ghcr.io/weft-mesh/weft:0.1.0 \
//	  --entrypoint /usr/local/bin/node,/app/dist/main.js --user 65532:65532 --workdir /app
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var layers, env list
	flag.Var(&layers, "layer", "a layer tarball, bottom first (repeatable)")
	flag.Var(&env, "env", "KEY=VALUE in the image config (repeatable)")
	out := flag.String("out", "", "OCI image layout directory to write")
	ref := flag.String("ref", "", "the image's name (org.opencontainers.image.ref.name)")
	entrypoint := flag.String("entrypoint", "", "comma-separated entrypoint")
	user := flag.String("user", "", "uid:gid")
	workdir := flag.String("workdir", "/", "working directory")
	flag.Parse()
	if *out == "" || len(layers) == 0 {
		fmt.Fprintln(os.Stderr, "usage: --layer <tar>... --out <dir> [--ref name] [--entrypoint a,b] [--user uid:gid]")
		os.Exit(2)
	}
	if err := build(layers, env, *out, *ref, strings.Split(*entrypoint, ","), *user, *workdir); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func build(layerFiles, env []string, out, ref string, entrypoint []string, user, workdir string) error {
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	for _, path := range layerFiles {
		layer, err := tarball.LayerFromFile(path, tarball.WithMediaType(types.OCILayer))
		if err != nil {
			return fmt.Errorf("layer %s: %w", path, err)
		}
		if img, err = mutate.AppendLayers(img, layer); err != nil {
			return err
		}
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cfg = cfg.DeepCopy()
	cfg.Architecture, cfg.OS = "amd64", "linux"
	cfg.Config.Entrypoint = entrypoint
	cfg.Config.User = user
	cfg.Config.WorkingDir = workdir
	cfg.Config.Env = env
	cfg.Config.Labels = map[string]string{"org.opencontainers.image.source": "https://github.com/weft-mesh/weft"}
	// Reproducible: no build time anywhere (layer files carry mtime 0 too, see build.sh).
	epoch := v1.Time{Time: time.Unix(0, 0).UTC()}
	cfg.Created = epoch
	for i := range cfg.History {
		cfg.History[i].Created = epoch
	}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return err
	}
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	path, err := layout.Write(out, empty.Index)
	if err != nil {
		return err
	}
	if err := path.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": ref})); err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	fmt.Println(digest.String())
	return nil
}
