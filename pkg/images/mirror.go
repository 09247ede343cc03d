package images

import "context"

// Mirror copies every image to dest registry to registry, without a
// file: what Save then Push do, with the same mapping (see
// Destination.Target). Blobs the destination already has are skipped;
// on the same registry they are mounted rather than copied.
func Mirror(ctx context.Context, imgs []Image, dest Destination, opts Options) ([]Saved, error) {
	c, err := newClient(ctx, opts.Registry, opts.Jobs, opts.WrapTransport)
	if err != nil {
		return nil, err
	}
	items, err := c.resolve(ctx, imgs, opts.Platforms)
	if err != nil {
		return nil, err
	}
	return c.push(items, dest, opts.Progress)
}
