# Copyright (c) mmaction-sugar contributors. All rights reserved.
