package azblob

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"hash/crc64"
	"io"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
)

// blockSize is the largest block WriteUpload stages. A blob holds at most
// 50,000 committed blocks, so an upload written in full blocks can reach
// about 390 GiB; every write adds at least one block, however small.
const blockSize = 8 << 20

// stageConcurrency is how many blocks one WriteUpload stages at a time; it
// holds as many buffers of blockSize bytes.
const stageConcurrency = 3

var blockBuffers = sync.Pool{New: func() any {
	b := make([]byte, blockSize)
	return &b
}}

// block is one committed block of an upload.
type block struct {
	id   string
	size int64
}

// uploadState is the committed content of an upload and the ETag it was
// read at; an upload that does not exist has no blocks and no ETag.
type uploadState struct {
	exists bool
	blocks []block
	size   int64
	etag   azcore.ETag
}

// readState reads the committed block list of upload c. The error is
// errChanged when the upload changed during the call.
func readState(ctx context.Context, c *blockblob.Client) (uploadState, error) {
	resp, err := c.GetBlockList(ctx, blockblob.BlockListTypeCommitted, nil)
	if bloberror.HasCode(err, bloberror.BlobNotFound) {
		return uploadState{}, nil
	}
	if err != nil {
		return uploadState{}, err
	}
	st := uploadState{exists: true}
	if resp.ETag != nil {
		st.etag = *resp.ETag
	}
	for _, b := range resp.CommittedBlocks {
		if b == nil || b.Name == nil || b.Size == nil {
			continue
		}
		st.blocks = append(st.blocks, block{id: *b.Name, size: *b.Size})
		st.size += *b.Size
	}
	if len(st.blocks) > 0 {
		return st, nil
	}
	// An empty block list does not tell an empty upload from one that holds
	// only the uncommitted blocks of a failed first write, which does not
	// exist yet; the blob's properties do.
	props, err := c.GetProperties(ctx, nil)
	if bloberror.HasCode(err, bloberror.BlobNotFound) {
		return uploadState{}, nil
	}
	if err != nil {
		return uploadState{}, err
	}
	if props.ETag == nil || props.ContentLength == nil || *props.ContentLength != 0 {
		return uploadState{}, errChanged
	}
	st.etag = *props.ETag
	return st, nil
}

// errChanged reports an upload that another writer changed while it was
// being read.
var errChanged = errors.New("the upload changed while it was read")

// keep returns the ids of the blocks that hold the first offset bytes of
// upload c. The part of a block that straddles offset is read back and
// staged as new blocks; the rest of the upload is left out.
func keep(ctx context.Context, c *blockblob.Client, st uploadState, offset int64) ([]string, error) {
	var ids []string
	var start int64
	for _, b := range st.blocks {
		if start+b.size > offset {
			break
		}
		ids = append(ids, b.id)
		start += b.size
	}
	if start == offset {
		return ids, nil
	}
	buf := blockBuffers.Get().(*[]byte)
	defer blockBuffers.Put(buf)
	for start < offset {
		n := min(offset-start, blockSize)
		resp, err := c.DownloadStream(ctx, &blob.DownloadStreamOptions{
			Range:            blob.HTTPRange{Offset: start, Count: n},
			AccessConditions: ifMatch(&st.etag),
		})
		if err != nil {
			return nil, err
		}
		_, err = io.ReadFull(resp.Body, (*buf)[:n])
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		id, err := newBlockID()
		if err == nil {
			err = stage(ctx, c, id, (*buf)[:n])
		}
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
		start += n
	}
	return ids, nil
}

// readErr marks a failure of the reader that WriteUpload copies from, so
// that it can be told apart from a failure of the service.
type readErr struct{ err error }

func (e *readErr) Error() string { return e.err.Error() }

// stageAll stages the content of r as blocks of upload c, up to
// stageConcurrency blocks at a time, and returns ids followed by the ids of
// the new blocks, and the number of bytes staged. A failure of r or of ctx
// is a *readErr.
func stageAll(ctx context.Context, c *blockblob.Client, ids []string, r io.Reader) ([]string, int64, error) {
	stageCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		stageErr error
		staged   int64
		slots    = make(chan struct{}, stageConcurrency)
		src      = &source{ctx: ctx, r: r}
	)
	result := func(err error) ([]string, int64, error) {
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		if stageErr != nil {
			return nil, staged, stageErr
		}
		if err != nil {
			return nil, staged, err
		}
		return ids, staged, nil
	}
	for {
		slots <- struct{}{}
		buf := blockBuffers.Get().(*[]byte)
		k, err := io.ReadFull(src, *buf)
		last := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if (err != nil && !last) || k == 0 {
			blockBuffers.Put(buf)
			<-slots
			if err != nil && !last {
				return result(&readErr{err})
			}
			return result(nil)
		}
		id, err := newBlockID()
		if err != nil {
			blockBuffers.Put(buf)
			<-slots
			return result(err)
		}
		ids = append(ids, id)
		wg.Go(func() {
			defer func() { blockBuffers.Put(buf); <-slots }()
			err := stage(stageCtx, c, id, (*buf)[:k])
			mu.Lock()
			defer mu.Unlock()
			if err != nil && stageErr == nil {
				stageErr = err
				cancel()
			}
			if err == nil {
				staged += int64(k)
			}
		})
		mu.Lock()
		failed := stageErr != nil
		mu.Unlock()
		if last || failed {
			return result(nil)
		}
	}
}

// newBlockID returns a random block id. Every id has the same length, as
// the service requires of the blocks of one blob.
func newBlockID() (string, error) {
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(raw[:]), nil
}

// stage uploads p as block id of c, uncommitted. The service checks the
// block against a CRC-64 of p.
func stage(ctx context.Context, c *blockblob.Client, id string, p []byte) error {
	_, err := c.StageBlock(ctx, id, streaming.NopCloser(bytes.NewReader(p)), &blockblob.StageBlockOptions{
		TransactionalValidation: blob.TransferValidationTypeCRC64(blockCRC(p)),
	})
	return err
}

// crc64Table is the CRC-64 of the storage service's x-ms-content-crc64.
var crc64Table = crc64.MakeTable(0x9A6C9329AC4BC9B5)

// blockCRC returns the CRC-64 the service checks a block against. The
// client library can compute it too, but only on a copy of the block.
func blockCRC(p []byte) uint64 { return crc64.Checksum(p, crc64Table) }

// commitList makes the blocks ids the content of upload c, on condition
// that the upload is still as st describes it (or, when st.exists is false,
// that it still does not exist). It returns the upload's new ETag.
func commitList(ctx context.Context, c *blockblob.Client, ids []string, st uploadState) (azcore.ETag, error) {
	cond := &blob.ModifiedAccessConditions{IfNoneMatch: to(azcore.ETagAny)}
	if st.exists {
		cond = &blob.ModifiedAccessConditions{IfMatch: &st.etag}
	}
	resp, err := c.CommitBlockList(ctx, ids, &blockblob.CommitBlockListOptions{
		AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: cond},
	})
	if err != nil {
		return "", err
	}
	if resp.ETag == nil {
		return "", nil
	}
	return *resp.ETag, nil
}

// source reads from r, stopping once ctx is done.
type source struct {
	ctx context.Context
	r   io.Reader
}

func (s *source) Read(p []byte) (int, error) {
	if err := s.ctx.Err(); err != nil {
		return 0, err
	}
	return s.r.Read(p)
}

// errCopyFailed is the cause of a commit whose copy did not complete.
var errCopyFailed = errors.New("the copy into the blob did not complete")

// settle waits until blob c is no longer being written by a copy and
// reports whether it then exists. A blob whose copy failed or was aborted is
// removed, and settle reports that it does not exist.
func settle(ctx context.Context, c *blockblob.Client) (bool, error) {
	wait := 50 * time.Millisecond
	for {
		props, err := c.GetProperties(ctx, nil)
		if bloberror.HasCode(err, bloberror.BlobNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if visible(props.CopyStatus) {
			return true, nil
		}
		if *props.CopyStatus != blob.CopyStatusTypePending {
			_, err := c.Delete(ctx, &blob.DeleteOptions{AccessConditions: ifMatch(props.ETag)})
			if err != nil && !bloberror.HasCode(err, bloberror.BlobNotFound, bloberror.ConditionNotMet) {
				return false, err
			}
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}
