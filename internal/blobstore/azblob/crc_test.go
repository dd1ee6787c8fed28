package azblob

import (
	"bytes"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
)

// crcSetter records the checksum a transfer validation sets on a request.
type crcSetter struct{ crc64, md5 []byte }

func (s *crcSetter) SetCRC64(v []byte) { s.crc64 = v }
func (s *crcSetter) SetMD5(v []byte)   { s.md5 = v }

func (s *crcSetter) SetStructuredBody(string, int64) {}

// TestBlockCRC checks blockCRC against the checksum the client library
// computes, which is what the service expects: Azurite does not check it.
func TestBlockCRC(t *testing.T) {
	for _, p := range [][]byte{nil, []byte("a"), bytes.Repeat([]byte("berth"), 100000)} {
		var want, got crcSetter
		if _, err := blob.TransferValidationTypeComputeCRC64().Apply(streaming.NopCloser(bytes.NewReader(p)), &want); err != nil {
			t.Fatal(err)
		}
		if _, err := blob.TransferValidationTypeCRC64(blockCRC(p)).Apply(streaming.NopCloser(bytes.NewReader(p)), &got); err != nil {
			t.Fatal(err)
		}
		if len(want.crc64) != 8 || !bytes.Equal(got.crc64, want.crc64) {
			t.Errorf("CRC-64 of %d bytes = %x, want %x", len(p), got.crc64, want.crc64)
		}
	}
}
