"""Writers: each fills an existing (staging) folder with one kind of output."""
