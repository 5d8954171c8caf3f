build/common/enc.o: common/enc.c common/enc.h
common/enc.h:
