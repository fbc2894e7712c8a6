#!/usr/bin/env python
from madoguchi.__main__ import main

if __name__ == "__main__":
    main()
