// Command ociimage assembles an OCI image layout archive (the format `ctr images import`,
// `buildah pull oci-archive:` and `podman load` read) from local files, because no registry is
// reachable from the test machine. The output is byte-for-byte reproducible (fixed times,
// owners and order, no creation date), so the harness can cache images by content.
//
//	ociimage -name tlsgate.test/hello:v1 -out hello.tar -entrypoint /hello -user 65532:65532 \
//	  -file ./hello=/hello:0755 [-layer rootfs.tar] [-env K=V] [-workdir /] [-cmd arg]
//
// Each -layer adds an existing uncompressed tar as a layer (in order); the -file entries form
// one more layer on top.
package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type blob struct {
	digest string
	data   []byte
}

func sha(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// fileEntry is one "SRC=DST[:MODE]" argument.
type fileEntry struct {
	src, dst string
	mode     int64
}

func parseFile(arg string) (fileEntry, error) {
	src, rest, ok := strings.Cut(arg, "=")
	if !ok || src == "" || rest == "" {
		return fileEntry{}, fmt.Errorf("-file %q: want SRC=DST[:MODE]", arg)
	}
	entry := fileEntry{src: src, dst: rest, mode: 0o644}
	if dst, mode, hasMode := strings.Cut(rest, ":"); hasMode {
		parsed, err := strconv.ParseInt(mode, 8, 32)
		if err != nil {
			return fileEntry{}, fmt.Errorf("-file %q: mode %q is not octal", arg, mode)
		}
		entry.dst, entry.mode = dst, parsed
	}
	if !strings.HasPrefix(entry.dst, "/") {
		return fileEntry{}, fmt.Errorf("-file %q: destination must be absolute", arg)
	}
	return entry, nil
}

// filesLayer writes the files, and every parent directory they need, as a tar owned by root
// with the Unix epoch as every time.
func filesLayer(files []fileEntry, dirs []string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0)
	written := map[string]bool{}
	var addDir func(dir string) error
	addDir = func(dir string) error {
		if dir == "/" || dir == "." || written[dir] {
			return nil
		}
		if err := addDir(path.Dir(dir)); err != nil {
			return err
		}
		written[dir] = true
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(dir, "/") + "/", Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].dst < files[j].dst })
	sort.Strings(dirs)
	for _, dir := range dirs {
		if err := addDir(path.Clean(dir)); err != nil {
			return nil, err
		}
	}
	for _, f := range files {
		content, err := os.ReadFile(f.src)
		if err != nil {
			return nil, fmt.Errorf("-file %s: %w", f.src, err)
		}
		if err := addDir(path.Dir(f.dst)); err != nil {
			return nil, err
		}
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(f.dst, "/"), Mode: f.mode, Size: int64(len(content)), ModTime: epoch, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(content); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeArchive(out string, blobs []blob, index []byte) error {
	tmp := out + ".tmp"
	file, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	tw := tar.NewWriter(file)
	epoch := time.Unix(0, 0)
	add := func(name string, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: epoch, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	for _, dir := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX}); err != nil {
			return err
		}
	}
	if err := add("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return err
	}
	for _, b := range blobs {
		if err := add("blobs/sha256/"+strings.TrimPrefix(b.digest, "sha256:"), b.data); err != nil {
			return err
		}
	}
	if err := add("index.json", index); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := file.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

func run() error {
	var files, layers, env, entrypoint, cmd, dirs repeated
	name := flag.String("name", "", "image reference, e.g. tlsgate.test/hello:v1")
	out := flag.String("out", "", "output archive")
	user := flag.String("user", "", "config.User, e.g. 65532:65532")
	workdir := flag.String("workdir", "/", "config.WorkingDir")
	flag.Var(&files, "file", "SRC=DST[:MODE] (repeatable)")
	flag.Var(&dirs, "dir", "an empty directory to create (repeatable)")
	flag.Var(&layers, "layer", "an uncompressed tar to add as a layer, below the -file layer (repeatable)")
	flag.Var(&env, "env", "K=V (repeatable)")
	flag.Var(&entrypoint, "entrypoint", "one argument of config.Entrypoint (repeatable)")
	flag.Var(&cmd, "cmd", "one argument of config.Cmd (repeatable)")
	flag.Parse()
	if *name == "" || *out == "" {
		return fmt.Errorf("-name and -out are required")
	}
	if !strings.Contains(path.Base(*name), ":") {
		return fmt.Errorf("-name %q: give a tag (NAME:TAG)", *name)
	}

	var layerBlobs []blob
	for _, l := range layers {
		data, err := os.ReadFile(l)
		if err != nil {
			return fmt.Errorf("-layer %s: %w", l, err)
		}
		layerBlobs = append(layerBlobs, blob{sha(data), data})
	}
	if len(files) > 0 || len(dirs) > 0 {
		var entries []fileEntry
		for _, f := range files {
			entry, err := parseFile(f)
			if err != nil {
				return err
			}
			entries = append(entries, entry)
		}
		data, err := filesLayer(entries, dirs)
		if err != nil {
			return err
		}
		layerBlobs = append(layerBlobs, blob{sha(data), data})
	}
	if len(layerBlobs) == 0 {
		return fmt.Errorf("no -file, -dir or -layer given: an image needs at least one layer")
	}

	diffIDs := make([]string, 0, len(layerBlobs))
	layerDescs := make([]descriptor, 0, len(layerBlobs))
	for _, b := range layerBlobs {
		diffIDs = append(diffIDs, b.digest) // uncompressed layers: the diff ID is the blob digest
		layerDescs = append(layerDescs, descriptor{MediaType: "application/vnd.oci.image.layer.v1.tar", Digest: b.digest, Size: int64(len(b.data))})
	}
	if len(env) == 0 {
		env = repeated{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	}
	config := map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"config": map[string]any{
			"User": *user, "Env": []string(env), "Entrypoint": []string(entrypoint), "Cmd": []string(cmd), "WorkingDir": *workdir,
		},
		"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs},
	}
	configJSON, err := json.Marshal(config)
	if err != nil {
		return err
	}
	configBlob := blob{sha(configJSON), configJSON}
	manifest := map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        descriptor{MediaType: "application/vnd.oci.image.config.v1+json", Digest: configBlob.digest, Size: int64(len(configJSON))},
		"layers":        layerDescs,
	}
	manifestJSON, err := json.Marshal(manifest)
	if err != nil {
		return err
	}
	manifestBlob := blob{sha(manifestJSON), manifestJSON}
	tag := (*name)[strings.LastIndex(*name, ":")+1:]
	index, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.index.v1+json",
		"manifests": []descriptor{{
			MediaType: "application/vnd.oci.image.manifest.v1+json", Digest: manifestBlob.digest, Size: int64(len(manifestJSON)),
			// containerd names the imported image after the first; buildah/podman read the second.
			Annotations: map[string]string{"io.containerd.image.name": *name, "org.opencontainers.image.ref.name": tag},
		}},
	})
	if err != nil {
		return err
	}
	if err := writeArchive(*out, append(append(layerBlobs, configBlob), manifestBlob), index); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "ociimage: %s -> %s (manifest %s)\n", *name, *out, manifestBlob.digest)
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ociimage:", err)
		os.Exit(1)
	}
}
