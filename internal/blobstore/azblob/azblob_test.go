package azblob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	sdk "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/opencontainers/go-digest"

	"berth/internal/berth"
	"berth/internal/blobstore/azblob"
	"berth/internal/blobstore/blobstoretest"
)

// freshContainer returns a container name no other test uses.
func freshContainer() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "t" + hex.EncodeToString(b)
}

// config returns the configuration of a store in container of account acct.
func config(acct, container string) azblob.Config {
	return azblob.Config{
		AccountName: acct,
		AccountKey:  azurite.keys[acct],
		ServiceURL:  serviceURL(acct),
		Container:   container,
	}
}

// newStore returns a store of the registry account in a container of its
// own, which is deleted when t ends.
func newStore(t testing.TB) *azblob.Store {
	t.Helper()
	return newStoreIn(t, account, freshContainer())
}

func newStoreIn(t testing.TB, acct, name string) *azblob.Store {
	t.Helper()
	needAzurite(t)
	s, err := azblob.New(t.Context(), config(acct, name))
	if err != nil {
		t.Fatalf("New(%s/%s): %v", acct, name, err)
	}
	t.Cleanup(func() {
		c := containerClient(t, acct, name)
		if _, err := c.Delete(context.Background(), nil); err != nil {
			t.Logf("deleting container %s/%s: %v", acct, name, err)
		}
	})
	return s
}

// containerClient returns an SDK client of container name in account acct,
// to look at the store from outside.
func containerClient(t testing.TB, acct, name string) *container.Client {
	t.Helper()
	cred, err := sdk.NewSharedKeyCredential(acct, azurite.keys[acct])
	if err != nil {
		t.Fatal(err)
	}
	c, err := container.NewClientWithSharedKeyCredential(serviceURL(acct)+"/"+name, cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSuite(t *testing.T) {
	needAzurite(t)
	blobstoretest.Run(t, func(t *testing.T) berth.BlobStore { return newStore(t) })
}

// put stores data as a blob of the registry and returns its digest.
func put(t testing.TB, s *azblob.Store, registry string, data []byte) digest.Digest {
	t.Helper()
	ctx := t.Context()
	id := "u" + hex.EncodeToString(data[:min(len(data), 8)])
	if _, err := s.WriteUpload(ctx, registry, id, 0, bytes.NewReader(data)); err != nil {
		t.Fatalf("WriteUpload: %v", err)
	}
	d := digest.FromBytes(data)
	if err := s.CommitUpload(ctx, registry, id, int64(len(data)), d); err != nil {
		t.Fatalf("CommitUpload: %v", err)
	}
	return d
}

func TestLayout(t *testing.T) {
	ctx := t.Context()
	name := freshContainer()
	s := newStoreIn(t, account, name)
	data := []byte("layout")
	if _, err := s.WriteUpload(ctx, "reg1", "up-1", 0, strings.NewReader("lay")); err != nil {
		t.Fatal(err)
	}
	d256 := put(t, s, "reg1", data)
	if _, err := s.WriteUpload(ctx, "reg2", "up-2", 0, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	d512 := digest.SHA512.FromBytes(data)
	if err := s.CommitUpload(ctx, "reg2", "up-2", int64(len(data)), d512); err != nil {
		t.Fatal(err)
	}

	var got []string
	pager := containerClient(t, account, name).NewListBlobsFlatPager(nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range page.Segment.BlobItems {
			got = append(got, *b.Name)
		}
	}
	want := []string{
		"reg1/blobs/sha256/" + d256.Encoded(),
		"reg1/uploads/up-1",
		"reg2/blobs/sha512/" + d512.Encoded(),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("container holds\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// rewritingReader rewrites the upload it is being copied into on its first
// Read, as a second writer of the same upload would.
type rewritingReader struct {
	rewrite func()
	r       io.Reader
}

func (r *rewritingReader) Read(p []byte) (int, error) {
	if r.rewrite != nil {
		r.rewrite()
		r.rewrite = nil
	}
	return r.r.Read(p)
}

func TestConcurrentWriterConflicts(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	if _, err := s.WriteUpload(ctx, "reg1", "u1", 0, strings.NewReader("base|")); err != nil {
		t.Fatal(err)
	}
	r := &rewritingReader{r: strings.NewReader("loser"), rewrite: func() {
		if _, err := s.WriteUpload(ctx, "reg1", "u1", 5, strings.NewReader("winner")); err != nil {
			t.Errorf("the other writer: %v", err)
		}
	}}
	_, err := s.WriteUpload(ctx, "reg1", "u1", 5, r)
	if berth.KindOf(err) != berth.KindConflict {
		t.Fatalf("WriteUpload overtaken by another writer: got %v, want kind %q", err, berth.KindConflict)
	}
	rc, err := s.ReadUpload(ctx, "reg1", "u1", 11)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if got, _ := io.ReadAll(rc); string(got) != "base|winner" {
		t.Errorf("upload holds %q, want %q", got, "base|winner")
	}
}

func TestNew(t *testing.T) {
	needAzurite(t)
	ctx := t.Context()
	good := config(account, freshContainer())
	tests := []struct {
		name string
		edit func(*azblob.Config)
		want berth.Kind
	}{
		{"no account", func(c *azblob.Config) { c.AccountName = "" }, berth.KindInvalid},
		{"no key", func(c *azblob.Config) { c.AccountKey = "" }, berth.KindInvalid},
		{"key not base64", func(c *azblob.Config) { c.AccountKey = "not base64!" }, berth.KindInvalid},
		{"container too short", func(c *azblob.Config) { c.Container = "ab" }, berth.KindInvalid},
		{"container upper case", func(c *azblob.Config) { c.Container = "Blobs" }, berth.KindInvalid},
		{"container double hyphen", func(c *azblob.Config) { c.Container = "a--b" }, berth.KindInvalid},
		{"service URL not http", func(c *azblob.Config) { c.ServiceURL = "ftp://127.0.0.1/x" }, berth.KindInvalid},
		{"negative SAS lifetime", func(c *azblob.Config) { c.SASTTL = -time.Second }, berth.KindInvalid},
		{"wrong key", func(c *azblob.Config) { c.AccountKey = azurite.keys[attacker] }, berth.KindInternal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.edit(&cfg)
			_, err := azblob.New(ctx, cfg)
			var be *berth.Error
			if !errors.As(err, &be) || be.Kind != tc.want {
				t.Fatalf("New: got %v, want an *berth.Error of kind %q", err, tc.want)
			}
		})
	}

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := azblob.New(canceled, good); berth.KindOf(err) != berth.KindUnavailable {
		t.Errorf("New with a canceled context: got %v, want kind %q", err, berth.KindUnavailable)
	}

	// New creates the container once and accepts it the second time.
	newStoreIn(t, account, good.Container)
	if _, err := azblob.New(ctx, good); err != nil {
		t.Errorf("New with an existing container: %v", err)
	}
}

// BenchmarkWriteCommitRead64MiB measures one 64 MiB blob's way through the
// store: one WriteUpload, the commit and a full Get.
func BenchmarkWriteCommitRead64MiB(b *testing.B) {
	const size = 64 << 20
	s := newStore(b)
	ctx := b.Context()
	data := make([]byte, size)
	rand.Read(data)
	d := digest.FromBytes(data)
	b.SetBytes(size)
	for i := 0; b.Loop(); i++ {
		id := "bench" + strconv.Itoa(i)
		if _, err := s.WriteUpload(ctx, "reg1", id, 0, bytes.NewReader(data)); err != nil {
			b.Fatalf("WriteUpload: %v", err)
		}
		if err := s.CommitUpload(ctx, "reg1", id, size, d); err != nil {
			b.Fatalf("CommitUpload: %v", err)
		}
		rc, err := s.Get(ctx, "reg1", d, 0, -1)
		if err != nil {
			b.Fatalf("Get: %v", err)
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil || n != size {
			b.Fatalf("reading the blob: %d bytes, %v", n, err)
		}
		b.StopTimer()
		if err := s.Delete(ctx, "reg1", d); err != nil {
			b.Fatalf("Delete: %v", err)
		}
		b.StartTimer()
	}
}

// failingReader returns data and then fails with err.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestFailedFirstWrite checks that a first write which staged whole blocks
// before its reader failed leaves no upload behind, and that the id can
// start again.
func TestFailedFirstWrite(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	data := make([]byte, 20<<20)
	rand.Read(data)
	errCut := errors.New("connection cut")
	_, err := s.WriteUpload(ctx, "reg1", "u1", 0, &failingReader{data: data, err: errCut})
	if !errors.Is(err, errCut) {
		t.Fatalf("WriteUpload from a failing reader: got %v, want the reader's error", err)
	}
	if _, err := s.ReadUpload(ctx, "reg1", "u1", 0); !berth.IsNotFound(err) {
		t.Fatalf("ReadUpload after a failed first write: got %v, want kind %q", err, berth.KindNotFound)
	}
	if _, err := s.WriteUpload(ctx, "reg1", "u1", 1, strings.NewReader("x")); berth.KindOf(err) != berth.KindInvalid {
		t.Fatalf("WriteUpload at offset 1 after a failed first write: got %v, want kind %q", err, berth.KindInvalid)
	}
	if _, err := s.WriteUpload(ctx, "reg1", "u1", 0, bytes.NewReader(data)); err != nil {
		t.Fatalf("WriteUpload again: %v", err)
	}
	d := digest.FromBytes(data[:12345678])
	if err := s.CommitUpload(ctx, "reg1", "u1", 12345678, d); err != nil {
		t.Fatalf("CommitUpload of a prefix that ends inside a block: %v", err)
	}
	rc, err := s.Get(ctx, "reg1", d, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if got, _ := io.ReadAll(rc); !bytes.Equal(got, data[:12345678]) {
		t.Errorf("blob holds %d bytes that differ from the upload's prefix", len(got))
	}
}
