"""Media leaf: encode frames to MP4, probe files, size arithmetic. No engine, job or HTTP imports."""
